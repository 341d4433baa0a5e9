"""Security headers on pages and API answers, and `check --deploy` under production settings."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from core import keyring

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)


def assert_security_headers(response, where):
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'", where
    assert directives["script-src"] == "'self'", where
    assert directives["frame-ancestors"] == "'none'", where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["X-Frame-Options"] == "DENY", where
    assert "no-store" in response["Cache-Control"], where


def test_pages_carry_every_header_and_no_inline_code(db, us_investigator, administrator, web):
    anonymous, member, admin = Client(), web(us_investigator), web(administrator)
    samples = [
        (anonymous, "/signin/"),
        (anonymous, "/account/"),  # the redirect to sign in
        (member, "/account/"),
        (member, "/account/tokens/"),
        (member, "/account/sessions/"),
        (member, "/account/password/"),
        (member, "/api/docs/"),
        (admin, "/admin/"),
        (admin, "/admin/workinggroup/user/"),
        (admin, f"/admin/workinggroup/user/{us_investigator.pk}/change/"),
        (anonymous, "/no/such/page/"),
    ]
    for client, path in samples:
        response = client.get(path)
        assert_security_headers(response, path)
        body = response.content.decode()
        if path.startswith(("/signin/", "/account/", "/api/docs/")):
            assert not INLINE_SCRIPT.search(body), path
            assert not INLINE_STYLE.search(body), path


def test_api_answers_carry_every_header(db, us_investigator, api):
    for client, path, status in [
        (api(us_investigator), "/api/v1/me/", 200),
        (api(None), "/api/v1/me/", 401),
        (api(us_investigator), "/api/schema/", 200),
        (api(None), "/healthz", 200),
    ]:
        response = client.get(path)
        assert response.status_code == status, path
        assert_security_headers(response, path)


def test_swagger_ui_runs_without_inline_script(db, us_investigator, web):
    client = web(us_investigator)
    html = client.get("/api/docs/").content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/api/docs/?script=" in scripts
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_templates_have_no_inline_script_or_style():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert not INLINE_SCRIPT.search(text), template
        assert not INLINE_STYLE.search(text), template


@pytest.fixture
def production_env(tmp_path):
    path = tmp_path / "keyring.json"
    keyring.write(path, keyring.generate())
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SECRET_KEY_FILE",
                        # set by the browser tests' conftest for Playwright's event loop
                        "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(DEBUG="False", SECRET_KEY=secrets.token_urlsafe(50), WG_KEYRING=str(path),
               ALLOWED_HOSTS="exchange.example.org,testserver", WG_VAR_DIR=str(tmp_path / "var"),
               WG_WITNESSES=_witnesses())
    return env


def _witnesses() -> str:
    """A production deployment has its countries' witnesses (else check audit.W017 warns)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit import notes

    return json.dumps([
        {"name": f"{cc}-witness", "url": f"https://witness.{cc}.example",
         "vkey": notes.vkey(f"{cc}-witness", notes.SIG_COSIGNATURE_V1,
                            notes.public_bytes(Ed25519PrivateKey.generate()))}
        for cc in ("us", "gt", "mx")
    ])


def test_check_deploy_is_clean_under_production_settings(production_env):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PROBE = """
import json
from django.test import Client
client = Client()
answers = {}
for path in ["/signin/", "/api/v1/me/"]:
    response = client.get(path, secure=True)
    answers[path] = {"status": response.status_code, "headers": dict(response.headers),
                     "cookies": {k: dict(v) for k, v in response.cookies.items()}}
plain = client.get("/signin/")
answers["plain"] = {"status": plain.status_code, "location": plain.get("Location", "")}
print(json.dumps(answers))
"""


def test_production_sends_hsts_secure_host_cookies_and_redirects_to_https(production_env):
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", PROBE], cwd=ROOT,
                            env=production_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    for path in ["/signin/", "/api/v1/me/"]:
        headers = answers[path]["headers"]
        assert headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"), path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert "no-store" in headers["Cache-Control"]
    assert answers["/api/v1/me/"]["status"] == 401
    csrf = answers["/signin/"]["cookies"]["__Host-csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["path"] == "/" and not csrf["domain"]
    assert answers["plain"] == {"status": 301, "location": "https://testserver/signin/"}
