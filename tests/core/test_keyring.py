"""The keyring is read one way, `core.keyring.get_keyring()`, which reads the file again when
another process has replaced it: a rotation elsewhere needs no restart here."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import keyring

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ring_file(tmp_path, settings):
    path = tmp_path / "keyring.json"
    keyring.write(path, keyring.generate())
    settings.WG_KEYRING = str(path)
    return path


def in_another_process(code: str, env=None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result


def test_a_key_added_by_another_process_is_seen_without_a_reload(ring_file):
    before = keyring.get_keyring().lookup_key_ids()
    in_another_process(
        "from core import keyring; p = "
        f"{str(ring_file)!r}; d = keyring.read(p); keyring.add_key(d, 'lookup'); "
        "keyring.write(p, d, overwrite=True)"
    )
    after = keyring.get_keyring().lookup_key_ids()
    assert len(after) == 2 and set(before) < set(after)
    assert keyring.get_keyring().primary_lookup_key()[0] == (set(after) - set(before)).pop()


def test_an_unchanged_file_is_not_read_again(ring_file, monkeypatch):
    first = keyring.get_keyring()
    monkeypatch.setattr(keyring, "read", lambda path: pytest.fail("read again"))
    assert keyring.get_keyring() is first


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lookup_finds_the_hit_after_another_process_rotated_the_lookup_key(
    postgres, ring_file, api, make_case, us_investigator, mx_investigator
):
    """`manage.py rotate_lookup_key --retire` in another process: new key, every blind index
    recomputed, the old key gone. This process, never restarted, still finds the hit."""
    from cases.services import subject_add

    case = make_case("MX")
    subject_add(case=case, actor=mx_investigator, full_name="Someone", role="organiser",
                identifiers=[{"identifier_type": "passport", "value": "G1234 5678"}])

    def hits():
        response = api(us_investigator).post(
            "/api/v1/lookup/", {"identifier_type": "passport", "value": "g-1234-5678"},
            format="json")
        assert response.status_code == 200, response.content
        return [(h["country"], h["cases"]) for h in response.json()["hits"]]

    assert hits() == [("MX", 1)]
    old_key = keyring.get_keyring().primary_lookup_key()[0]
    settings_dict = postgres.settings_dict
    env = {**os.environ, "WG_KEYRING": str(ring_file),
           "DATABASE_URL": "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(
               **{k: settings_dict[k] or "" for k in ("USER", "PASSWORD", "HOST", "PORT")},
               NAME=settings_dict["NAME"])}
    rotated = subprocess.run([sys.executable, "manage.py", "rotate_lookup_key", "--retire"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rotated.returncode == 0, rotated.stderr
    assert keyring.read(ring_file)["lookup"]["primary"] != old_key
    assert list(keyring.read(ring_file)["lookup"]["keys"]) != [old_key]

    assert hits() == [("MX", 1)]
    assert keyring.get_keyring().lookup_key_ids() == [keyring.read(ring_file)["lookup"]["primary"]]
