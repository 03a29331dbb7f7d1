"""Storage backends for the upload tests: the local file system in a temporary folder, and S3 through
django-storages against moto's S3 server on 127.0.0.1 (a free port), started here and stopped at the end."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server mode on 127.0.0.1; yields its endpoint URL."""
    pytest.importorskip("moto.server", reason="moto[server] is in the dev extra")
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_storages(endpoint: str, bucket: str) -> dict:
    return {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": bucket, "endpoint_url": endpoint, "access_key": "testing", "secret_key": "testing",
            "region_name": "us-east-1", "addressing_style": "path", "file_overwrite": False, "default_acl": None,
        }},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(params=["local", "s3"])
def storage_backend(request, settings, tmp_path) -> str:
    """Run the test once with files on the local disk and once in S3-compatible object storage."""
    if request.param == "local":
        settings.MEDIA_ROOT = str(tmp_path / "media")
        settings.STORAGES = {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": str(tmp_path / "media")}},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        return "local"
    import boto3

    endpoint = request.getfixturevalue("s3_server")
    bucket = f"fjzl-test-{request.node.name.lower().replace('[', '-').replace(']', '').replace('_', '-')}"[:60]
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = s3_storages(endpoint, bucket)
    return "s3"
