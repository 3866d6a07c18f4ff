"""Object storage behind one interface: S3 (boto3, any S3 API) in production and tests, a local
directory for ``acre dev``. Keys are fixed by the caller (idempotent writes); reads are handed out as
short-lived presigned GET URLs."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import shutil
import time
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import quote, urlencode

import boto3
from botocore.config import Config

from app.settings import Settings

_CHUNK = 1 << 20


class Storage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def download(self, key: str, into: IO[bytes]) -> None: ...
    async def upload(self, key: str, source: IO[bytes], content_type: str) -> None: ...
    async def presigned_get(self, key: str, filename: str | None = None, ttl: int | None = None) -> str: ...
    async def ping(self) -> None: ...


class S3Storage:
    def __init__(self, settings: Settings):
        self.bucket = settings.s3_bucket
        self.ttl = settings.presign_ttl_seconds
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object, Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
        )

    async def get(self, key: str) -> bytes:
        response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
        body: bytes = await asyncio.to_thread(response["Body"].read)
        return body

    async def download(self, key: str, into: IO[bytes]) -> None:
        """Copy the object into a file, 1 MB at a time (never all of it in memory)."""

        def copy() -> None:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            for chunk in body.iter_chunks(_CHUNK):
                into.write(chunk)

        await asyncio.to_thread(copy)

    async def upload(self, key: str, source: IO[bytes], content_type: str) -> None:
        """Store a file's content from its start, in chunks (multipart above boto3's threshold)."""
        await asyncio.to_thread(
            self.client.upload_fileobj, source, self.bucket, key, ExtraArgs={"ContentType": content_type}
        )

    async def presigned_get(self, key: str, filename: str | None = None, ttl: int | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        url: str = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl or self.ttl)
        return url

    async def ping(self) -> None:
        await asyncio.to_thread(self.client.head_bucket, Bucket=self.bucket)

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except self.client.exceptions.ClientError:
            self.client.create_bucket(Bucket=self.bucket)


class LocalStorage:
    """Files under a directory; presigned URLs are HMAC-signed links served by ``/files/...``."""

    def __init__(self, settings: Settings):
        self.root = settings.storage_dir.resolve()
        self.key = settings.secret_key.encode()
        self.public_url = settings.public_url
        self.ttl = settings.presign_ttl_seconds

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError("key escapes the storage directory")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    async def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    async def download(self, key: str, into: IO[bytes]) -> None:
        with self.path(key).open("rb") as source:
            await asyncio.to_thread(shutil.copyfileobj, source, into)

    async def upload(self, key: str, source: IO[bytes], content_type: str) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with tmp.open("wb") as out:
            await asyncio.to_thread(shutil.copyfileobj, source, out)
        tmp.replace(path)

    def signature(self, key: str, expires: int) -> str:
        return hmac.new(self.key, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    async def presigned_get(self, key: str, filename: str | None = None, ttl: int | None = None) -> str:
        expires = int(time.time()) + (ttl or self.ttl)
        query = {"expires": expires, "sig": self.signature(key, expires)}
        if filename:
            query["filename"] = filename
        return f"{self.public_url}/files/{quote(key)}?{urlencode(query)}"

    def verify(self, key: str, expires: int, sig: str) -> bool:
        # compared as bytes: compare_digest raises on a str with non-ASCII characters (a forged sig)
        expected = self.signature(key, expires).encode()
        return expires >= time.time() and hmac.compare_digest(sig.encode(), expected)

    async def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.root.is_dir():
            raise RuntimeError(f"storage directory is missing: {self.root}")


def create_storage(settings: Settings) -> S3Storage | LocalStorage:
    return S3Storage(settings) if settings.storage_backend == "s3" else LocalStorage(settings)
