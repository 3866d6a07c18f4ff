from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from app.settings import get_settings
from app.storage import LocalStorage, S3Storage, create_storage


@pytest.fixture
def s3(stack) -> S3Storage:
    storage = create_storage(get_settings())
    assert isinstance(storage, S3Storage)
    return storage


@pytest.fixture
def local(stack, tmp_path: Path) -> LocalStorage:
    settings = get_settings().model_copy(
        update={"storage_backend": "local", "storage_dir": tmp_path / "files"}
    )
    storage = create_storage(settings)
    assert isinstance(storage, LocalStorage)
    return storage


async def test_s3_roundtrip_with_a_chinese_key(s3):
    key = f"tenants/{secrets.token_hex(4)}/合同/报价单 第1版.pdf"
    data = b"%PDF-1.7 " + secrets.token_bytes(2048)
    await s3.ping()
    await s3.put(key, data, "application/pdf")
    assert await s3.get(key) == data
    head = await asyncio.to_thread(s3.client.head_object, Bucket=s3.bucket, Key=key)
    assert head["ContentType"] == "application/pdf"
    # writes are idempotent by key: the same key again replaces the object
    await s3.put(key, b"second", "application/pdf")
    assert await s3.get(key) == b"second"


async def test_s3_presigned_get_is_fetchable(s3):
    key = f"tenants/{secrets.token_hex(4)}/报价单.pdf"
    data = secrets.token_bytes(1000)
    await s3.put(key, data, "application/pdf")
    url = await s3.presigned_get(key, filename="报价单 2026.pdf", ttl=60)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query
    async with httpx.AsyncClient() as http:
        r = await http.get(url)
        assert r.status_code == 200, r.text
        assert r.content == data
        assert "attachment" in r.headers["content-disposition"]
        assert "报价单 2026.pdf" in unquote(r.headers["content-disposition"])
        # the signature covers the key: another key with the same signature is refused
        other = url.replace(urlsplit(url).path, urlsplit(url).path + "x")
        assert (await http.get(other)).status_code == 403


async def test_local_storage_roundtrip_and_signed_links(local):
    key = f"tenants/{secrets.token_hex(4)}/合同 v1.pdf"
    await local.put(key, b"hello", "application/pdf")
    assert await local.get(key) == b"hello"
    assert local.path(key).read_bytes() == b"hello"
    assert not list(local.path(key).parent.glob("*.tmp"))  # written via a temp file, then renamed
    await local.put(key, b"hello again", "application/pdf")
    assert await local.get(key) == b"hello again"

    url = await local.presigned_get(key, filename="合同.pdf", ttl=120)
    parts = urlsplit(url)
    assert url.startswith(get_settings().public_url + "/files/")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    signed_key = unquote(parts.path.removeprefix("/files/"))
    assert signed_key == key and query["filename"] == "合同.pdf"
    expires, sig = int(query["expires"]), query["sig"]
    assert expires > time.time()
    assert local.verify(signed_key, expires, sig) is True


async def test_local_storage_rejects_tampered_and_expired_links(local):
    key = "tenants/x/file.pdf"
    await local.put(key, b"data", "application/pdf")
    query = {k: v[0] for k, v in parse_qs(urlsplit(await local.presigned_get(key)).query).items()}
    expires, sig = int(query["expires"]), query["sig"]
    assert local.verify(key, expires, sig)

    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert local.verify(key, expires, flipped) is False
    assert local.verify(key, expires, "") is False
    assert local.verify(key, expires, "签名" + sig[2:]) is False  # not even hex: refused, not an error
    assert local.verify("tenants/x/other.pdf", expires, sig) is False  # the signature is for one key
    assert local.verify(key, expires + 3600, sig) is False  # the expiry cannot be extended

    past = int(time.time()) - 10
    assert local.verify(key, past, local.signature(key, past)) is False  # correctly signed, but expired


@pytest.mark.parametrize("key", ["../escape.txt", "a/../../escape.txt", "/etc/passwd", "a/b/../../../x"])
async def test_local_storage_refuses_keys_outside_its_directory(local, key):
    with pytest.raises(ValueError, match="escapes"):
        await local.put(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        await local.get(key)
    assert not (local.root.parent / "escape.txt").exists()
