"""Production settings on plain HTTP only when nobody off this machine can reach the service,
and the demo members loaded there only on an explicit, loopback-only request."""

import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.workinggroup.test_settings import ROOT, production_keyring

PRINT_TLS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.LOOPBACK_ONLY, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
    "s.SESSION_COOKIE_NAME, s.SECURE_HSTS_SECONDS]))"
)


def tls_settings(tmp_path, hosts):
    """(LOOPBACK_ONLY, SSL redirect, secure cookies, cookie name, HSTS), and the warnings."""
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY_FILE", "DEBUG"}}
    clean.update(DEBUG="False", SECRET_KEY="x" * 50, WG_KEYRING=production_keyring(tmp_path),
                 WG_VAR_DIR=str(tmp_path / "var"), ALLOWED_HOSTS=hosts)
    result = subprocess.run([sys.executable, "-c", PRINT_TLS], cwd=ROOT, env=clean,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


@pytest.mark.parametrize("hosts", ["127.0.0.1,localhost", "::1", "[::1],127.0.0.2"])
def test_loopback_only_hosts_run_production_on_plain_http_and_say_so(tmp_path, hosts):
    (loopback, redirect, secure, cookie, hsts), stderr = tls_settings(tmp_path, hosts)
    assert loopback is True
    assert (redirect, secure, cookie, hsts) == (False, False, "sessionid", 0)
    assert "DEBUG=False on plain HTTP" in stderr


@pytest.mark.parametrize("hosts", ["example.org", "127.0.0.1,example.org", "0.0.0.0"])
def test_any_other_host_keeps_every_tls_setting(tmp_path, hosts):
    (loopback, redirect, secure, cookie, hsts), stderr = tls_settings(tmp_path, hosts)
    assert loopback is False
    assert (redirect, secure, cookie, hsts) == (True, True, "__Host-sessionid", 31536000)
    assert "plain HTTP" not in stderr


def test_seed_demo_loopback_demo_loads_the_demo_under_debug_false(db, settings):
    from workinggroup.models import User

    settings.DEBUG, settings.LOOPBACK_ONLY = False, True
    call_command("seed_demo", "--loopback-demo", "--quiet")
    assert User.objects.filter(username="us.investigator1").exists()


def test_seed_demo_loopback_demo_refuses_a_non_loopback_host(db, settings):
    from workinggroup.models import User

    settings.DEBUG, settings.LOOPBACK_ONLY = False, False
    settings.ALLOWED_HOSTS = ["127.0.0.1", "exchange.example.org"]
    with pytest.raises(CommandError, match="non-loopback entry") as refused:
        call_command("seed_demo", "--loopback-demo", "--quiet")
    assert refused.value.returncode == 2
    assert not User.objects.filter(username="us.investigator1").exists()


def test_seed_demo_still_refuses_debug_false_without_the_flag(db, settings):
    settings.DEBUG, settings.LOOPBACK_ONLY = False, True
    with pytest.raises(CommandError, match="refused with DEBUG=False"):
        call_command("seed_demo", "--quiet")
