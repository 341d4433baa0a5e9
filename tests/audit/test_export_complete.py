"""The documented stand-alone verifier: an unfiltered export given `--complete` fails on any
gap; without it (a filtered export) a gap is counted, while a bad hash or link always fails."""

import json

import pytest

import audit
from tests.audit.standalone import run

URL = "/api/v1/audit/export/"


@pytest.fixture
def exported(db, drain, api, us_investigator, oversight_auditor, tmp_path):
    """The lines of an unfiltered export of 10 entries (plus the export's own records)."""
    for i in range(10):
        audit.record("auth.login", us_investigator, target=("workinggroup.user", "1"), n=i)
    drain()
    response = api(oversight_auditor).get(URL)
    assert response.status_code == 200
    return b"".join(response.streaming_content).splitlines(keepends=True)


def verify(tmp_path, lines, *flags):
    (tmp_path / "audit.jsonl").write_bytes(b"".join(lines))
    return run("verify_export.py", *flags, tmp_path / "audit.jsonl", cwd=tmp_path)


def test_a_whole_export_passes_with_complete(exported, tmp_path):
    result = verify(tmp_path, exported, "--complete")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith(", 0 gap(s)\n")


@pytest.mark.parametrize("dropped", [0, 4, 8])
def test_a_deleted_entry_fails_complete(exported, tmp_path, dropped):
    seq = json.loads(exported[dropped])["seq"]
    del exported[dropped]
    result = verify(tmp_path, exported, "--complete")
    assert result.returncode == 1
    assert result.stderr == f"BROKEN: first bad seq {seq + 1}: it does not follow #{seq - 1}\n"
    counted = verify(tmp_path, exported)  # as a filtered export: counted, not failed
    assert counted.returncode == 0 and counted.stdout.endswith(", 1 gap(s)\n")


@pytest.mark.parametrize("flags", [(), ("--complete",)])
def test_a_bad_link_between_consecutive_entries_fails(exported, tmp_path, flags):
    # Entry 6 rewritten with a self-consistent hash but a prev_hash that is not #5's.
    import hashlib

    entry = json.loads(exported[5])
    entry.pop("hash")
    entry["prev_hash"] = "f" * 64
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    entry["hash"] = hashlib.sha256((entry["prev_hash"] + canonical).encode()).hexdigest()
    exported[5] = json.dumps(entry, ensure_ascii=False).encode() + b"\n"
    result = verify(tmp_path, exported, *flags)
    assert result.returncode == 1
    assert result.stderr == f"BROKEN: first bad seq {entry['seq']}: it does not follow " \
                            f"#{entry['seq'] - 1}\n"


@pytest.mark.parametrize("flags", [(), ("--complete",)])
def test_a_bad_hash_fails(exported, tmp_path, flags):
    entry = json.loads(exported[2])
    entry["actor"] = "mallory"
    exported[2] = json.dumps(entry, ensure_ascii=False).encode() + b"\n"
    result = verify(tmp_path, exported, *flags)
    assert result.returncode == 1
    assert "its content does not match its hash" in result.stderr
