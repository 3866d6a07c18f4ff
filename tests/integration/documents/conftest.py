"""Fixtures for the documents tests: LibreOffice presence, S3 inspection, upload and job helpers."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.conftest import Stack


def soffice_missing() -> str | None:
    if shutil.which("soffice") is None:
        return "LibreOffice (soffice) is not installed (apt-get install libreoffice-writer-nogui)"
    return None


def uno_missing() -> str | None:
    missing = soffice_missing()
    if missing:
        return missing
    probe = subprocess.run(["/usr/bin/python3", "-c", "import uno"], capture_output=True, check=False)
    return None if probe.returncode == 0 else "python3-uno is not installed (apt-get install python3-uno)"


@pytest.fixture
def needs_soffice() -> None:
    reason = soffice_missing()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def needs_unoserver() -> None:
    reason = uno_missing()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def s3(stack: Stack) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=stack.s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4"),
    )


def keys_under(s3: Any, prefix: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket="acre-test", Prefix=prefix)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def pdf_text(pdf: bytes) -> str:
    """The PDF's text layer, via poppler's pdftotext."""
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


async def fetch(url: str) -> bytes:
    """GET a presigned URL (the moto S3 server) and return the body."""
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200, response.text
    return response.content
