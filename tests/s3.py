"""An S3 API server on loopback for the tests: moto's server mode, started by the test run.

`WG_STORAGE=s3` talks to it through django-storages and boto3 exactly as it would to AWS or
any S3-compatible store (MinIO, Ceph): signed HTTP requests to an endpoint URL.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ACCESS_KEY = SECRET_KEY = "wgx-test"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """moto_server on a free loopback port; stop() ends it."""

    def __init__(self, log: Path | None = None):
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        out = log.open("ab") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1",
             "-p", str(self.port)],
            stdout=out, stderr=subprocess.STDOUT,
        )
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("moto_server did not start within 30 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def new_bucket(self) -> str:
        name = f"wgx-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def write(self, bucket: str, key: str, data: bytes) -> None:
        self.client().put_object(Bucket=bucket, Key=key, Body=data)

    def env(self, bucket: str) -> dict:
        """The environment that makes a process store attachments in the bucket."""
        return {"WG_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": bucket,
                "AWS_S3_ENDPOINT_URL": self.endpoint, "AWS_S3_REGION_NAME": REGION,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}

    def storage_setting(self, bucket: str) -> dict:
        """STORAGES["default"] as workinggroup/settings.py builds it for WG_STORAGE=s3."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket, "endpoint_url": self.endpoint, "region_name": REGION,
                "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "location": "",
                "file_overwrite": False, "default_acl": None,
                "max_memory_size": 8 * 1024 * 1024,
            },
        }
