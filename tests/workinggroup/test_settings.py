"""Settings fail closed: production refuses development secrets and names the setting."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import keyring

ROOT = Path(__file__).resolve().parents[2]


def start_django(tmp_path, **env):
    """Start Django's settings in a fresh process with the given environment."""
    clean = {k: v for k, v in os.environ.items()
             if k not in {"SECRET_KEY", "WG_KEYRING", "DEBUG", "SECRET_KEY_FILE"}}
    clean.update({"WG_VAR_DIR": str(tmp_path / "var"), **env})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )


def production_keyring(tmp_path):
    path = tmp_path / "prod-keyring.json"
    keyring.write(path, keyring.generate())
    return str(path)


def test_production_refuses_development_secret_key(tmp_path):
    result = start_django(tmp_path, DEBUG="False", WG_KEYRING=production_keyring(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY: DEBUG=False refuses the generated development key" in result.stderr


def test_production_refuses_missing_keyring(tmp_path):
    result = start_django(tmp_path, DEBUG="False", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "WG_KEYRING: DEBUG=False refuses the development keyring" in result.stderr


def test_production_refuses_a_development_keyring_file(tmp_path):
    dev = tmp_path / "dev.json"
    keyring.write(dev, keyring.generate(development=True))
    result = start_django(tmp_path, DEBUG="False", SECRET_KEY="x" * 50, WG_KEYRING=str(dev))
    assert result.returncode != 0
    assert "WG_KEYRING: DEBUG=False refuses the development keyring" in result.stderr


def test_production_starts_with_real_secrets(tmp_path):
    result = start_django(tmp_path, DEBUG="False", SECRET_KEY="x" * 50,
                          WG_KEYRING=production_keyring(tmp_path), ALLOWED_HOSTS="example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


def test_development_defaults_are_generated_once_with_a_warning(tmp_path):
    first = start_django(tmp_path)
    second = start_django(tmp_path)
    assert first.returncode == 0 and second.returncode == 0
    assert "generated a development keyring" in first.stderr
    assert "generated a development keyring" not in second.stderr
    assert "development SECRET_KEY and keyring in var/ are in use" in second.stderr
    key = tmp_path / "var" / "development-secret-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_create_keyring_writes_0600_and_refuses_to_overwrite(db, tmp_path):
    path = tmp_path / "keyring.json"
    call_command("create_keyring", str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["development"] is False
    assert sorted(data["countries"]) == ["GT", "MX", "US"]
    before = path.read_bytes()
    with pytest.raises(CommandError, match="refusing to overwrite") as excinfo:
        call_command("create_keyring", str(path))
    assert excinfo.value.returncode == 2
    assert path.read_bytes() == before


def test_keyring_never_shows_key_material(tmp_path):
    data = keyring.generate()
    ring = keyring.Keyring(data)
    _, kek = ring.primary_kek("US")
    assert len(kek) == 32
    assert repr(ring) == str(ring) == "<Keyring 3 countries>"
    with pytest.raises(keyring.KeyringError) as excinfo:
        ring.primary_kek("FR")
    assert "rotate_keys --country FR" in str(excinfo.value)
    assert data["countries"]["US"]["keys"][ring.primary_kek("US")[0]] not in str(excinfo.value)
