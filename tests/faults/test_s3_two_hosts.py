"""Two web processes with separate local folders, as two hosts behind a load balancer, serve
each other's files through one S3 bucket (moto's server on loopback): nothing is kept on
either host's disk."""

import json
import os

from tests.faults import services
from tests.s3 import MotoServer


def test_two_web_processes_serve_each_others_files_through_the_bucket(drill):
    moto = MotoServer(drill.root / "moto.log")
    try:
        bucket = moto.new_bucket()
        seeded = drill.seed()
        hosts = {}
        for name in ("a", "b"):
            env = {**moto.env(bucket), "WG_VAR_DIR": str(drill.root / f"host-{name}" / "var")}
            proc, port = services.web({**drill.env, **env}, drill.root, workers=1)
            drill.processes.append(proc)
            hosts[name] = port
        token, case = seeded["tokens"]["us.investigator"], seeded["cases"]["US"]
        sent = {}
        for name, port in hosts.items():
            data = b"%PDF-1.7\n" + os.urandom(300_000)
            status, _, body = services.upload(port, token, case, data)
            assert status == 201, body
            sent[json.loads(body)["id"]] = (name, data)
        for attachment_id, (origin, data) in sent.items():
            other = hosts["b" if origin == "a" else "a"]
            status, _, body = services.request(
                other, "GET", f"/api/v1/attachments/{attachment_id}/content/", token=token)
            assert status == 200 and body == data, f"host {origin}'s file from the other host"
        keys = moto.keys(bucket)
        local = [p for name in hosts for p in (drill.root / f"host-{name}").rglob("*.wgxa")]
        print(f"\nTwo hosts, one bucket: {len(sent)} uploads, each downloaded from the other "
              f"host; {len(keys)} objects in the bucket, {len(local)} on local disks")
        assert len(keys) == 2 and local == []
    finally:
        moto.stop()

