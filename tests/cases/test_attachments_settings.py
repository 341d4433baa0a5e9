"""Attachment storage settings: the filesystem by default, S3 only when it can work."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.files.uploadhandler import load_handler
from django.test import RequestFactory

from cases.upload import DiscardFileUploadHandler
from tests.cases.conftest import multipart

ROOT = Path(__file__).resolve().parents[2]


def storage_backend(tmp_path, *, without_boto3=False, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WG_STORAGE"))}
    clean.update({"WG_VAR_DIR": str(tmp_path / "var"), **env})
    # boto3 is pinned; a process where it cannot be imported stands for an install without it.
    hide = "import sys; sys.modules['boto3'] = None; " if without_boto3 else ""
    return subprocess.run(
        [sys.executable, "-c", hide + "import django; django.setup(); from django.conf import "
         "settings; print(settings.STORAGES['default']['BACKEND'])"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )


def test_filesystem_is_the_default(tmp_path):
    result = storage_backend(tmp_path)
    assert result.stdout.strip() == "django.core.files.storage.FileSystemStorage"


def test_s3_without_boto3_refuses_to_start_and_says_why(tmp_path):
    result = storage_backend(tmp_path, without_boto3=True, WG_STORAGE="s3",
                             AWS_STORAGE_BUCKET_NAME="evidence")
    assert result.returncode != 0
    assert "WG_STORAGE=s3 needs boto3" in result.stderr


def test_s3_selects_the_bucket_storage(tmp_path):
    result = storage_backend(tmp_path, WG_STORAGE="s3", AWS_STORAGE_BUCKET_NAME="evidence")
    assert result.stdout.strip() == "storages.backends.s3.S3Storage", result.stderr


def test_an_unknown_storage_is_refused(tmp_path):
    result = storage_backend(tmp_path, WG_STORAGE="ftp")
    assert "WG_STORAGE: choose filesystem (default) or s3" in result.stderr


def test_no_endpoint_but_the_upload_keeps_files(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    body, content_type = multipart(("file", "a.txt", b"x" * 5_000_000), ("note", None, b"kept"))
    request = RequestFactory().post("/anywhere/", data=body, content_type=content_type)
    assert [type(h) for h in request.upload_handlers] == [DiscardFileUploadHandler]
    assert not request.FILES and request.POST["note"] == "kept"
    assert list(tmp_path.iterdir()) == []
    assert isinstance(load_handler(settings.FILE_UPLOAD_HANDLERS[0]), DiscardFileUploadHandler)
