"""Rotating ACRE_SIGNING_KEY_ENCRYPTION_KEY: ``acre rotate-signing-key`` re-encrypts every stored
sealing key under the new key; the same private keys come back under it, none under the old one; a
rerun changes nothing and a wrong current key stops the run without changing any row."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from typing import Any
from uuid import UUID

import pytest
from cryptography.exceptions import InvalidTag

from app import db
from app.signing.seal import (
    KeysNotDecrypted,
    current_encryption_secret,
    decrypt_key,
    reencrypt_sealing_keys,
    tenant_sealing_key,
)
from tests.conftest import ROOT
from tests.helpers import settings_env, signup


async def _keys(tenants: list[UUID]) -> dict[UUID, bytes]:
    found = {}
    for tenant in tenants:
        async with db.transaction(tenant) as tx:
            found[tenant] = (await tenant_sealing_key(tx)).key_pem
    return found


async def _stored(tenants: list[UUID]) -> dict[UUID, bytes]:
    found = {}
    for tenant in tenants:
        async with db.transaction(tenant) as tx:
            found[tenant] = bytes(
                await tx.fetchval("SELECT key_encrypted FROM tenant_signing_keys WHERE tenant = $1", tenant)
            )
    return found


def _cli_rotate(new: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "rotate-signing-key", "--new-key-file", "-"],
        input=new,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


async def test_rotation_reencrypts_every_key_and_a_rerun_or_a_wrong_key_changes_nothing(client: Any) -> None:
    tenants = [UUID((await signup(client)).tenant_id) for _ in range(2)]
    old = current_encryption_secret()
    before = await _keys(tenants)  # made at first use, under the current key
    new = secrets.token_urlsafe(32)
    try:
        rotated, already = await reencrypt_sealing_keys(old, new)
        assert rotated >= 2 and already == 0
        with settings_env(signing_key_encryption_key=new):
            assert await _keys(tenants) == before  # the same private keys, now under the new key
        for tenant, blob in (await _stored(tenants)).items():
            with pytest.raises(InvalidTag):
                decrypt_key(tenant, blob, old)

        assert await reencrypt_sealing_keys(old, new) == (0, rotated)  # a rerun: all done already
        stored = await _stored(tenants)
        with pytest.raises(KeysNotDecrypted):
            await reencrypt_sealing_keys("not-the-key", secrets.token_urlsafe(32))
        assert await _stored(tenants) == stored
        with pytest.raises(ValueError):
            await reencrypt_sealing_keys(new, new)
    finally:
        # back to the suite's key, through the command itself
        done = _cli_rotate(old, ACRE_SIGNING_KEY_ENCRYPTION_KEY=new)
    assert done.returncode == 0, done.stderr
    assert f"re-encrypted {rotated} sealing keys" in done.stdout
    assert await _keys(tenants) == before
    refused = _cli_rotate(old)  # the new key equals the current one
    assert refused.returncode == 2 and "differ" in refused.stderr
