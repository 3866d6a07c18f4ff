"""Pure parts of e-signature: the evidence hash chain's content, the sealing key's encryption at rest,
signing-link parsing, the PAdES seal and what tampering does to it (no database, no network)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidTag
from pypdf import PdfWriter

from app.settings import get_settings
from app.signing import evidence, seal
from app.signing.signer import link_tenant


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings without a stack: no timestamp authority, a key-encryption key of its own."""
    monkeypatch.setenv("ACRE_ENVIRONMENT", "test")
    monkeypatch.setenv("ACRE_SIGNING_KEY_ENCRYPTION_KEY", "unit-test-key-encryption-key")
    monkeypatch.delenv("ACRE_TIMESTAMP_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_chain_hash_depends_on_every_field_and_the_previous_hash() -> None:
    tenant, env = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    base = evidence.canonical(tenant, env, 1, "signed", None, None, at, "1.2.3.4", "ua", {"kind": "typed"})
    first = evidence.chain_hash(base, evidence.GENESIS)
    assert len(first) == 64 and first == evidence.chain_hash(base, evidence.GENESIS)
    changed_ip = evidence.canonical(
        tenant, env, 1, "signed", None, None, at, "1.2.3.5", "ua", {"kind": "typed"}
    )
    assert evidence.chain_hash(changed_ip, evidence.GENESIS) != first
    assert evidence.chain_hash(base, first) != first  # linked to the previous entry
    later = evidence.canonical(
        tenant,
        env,
        1,
        "signed",
        None,
        None,
        at.replace(microsecond=123457),
        "1.2.3.4",
        "ua",
        {"kind": "typed"},
    )
    assert evidence.chain_hash(later, evidence.GENESIS) != first


def test_sealing_key_is_encrypted_per_tenant() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    blob = seal.encrypt_key(a, b"-----BEGIN PRIVATE KEY-----")
    assert b"PRIVATE KEY" not in blob
    assert seal.decrypt_key(a, blob) == b"-----BEGIN PRIVATE KEY-----"
    with pytest.raises(InvalidTag):
        seal.decrypt_key(b, blob)  # copied to another tenant: does not decrypt


def test_link_tenant_parses_only_well_formed_tokens() -> None:
    tenant = uuid.uuid4()
    assert link_tenant(f"{tenant.hex}.{'a' * 43}") == tenant
    assert link_tenant(f"{tenant.hex}.short") is None
    assert link_tenant(f"not-hex.{'a' * 43}") is None
    assert link_tenant("x" * 500) is None


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_seal_validates_and_one_changed_byte_breaks_it() -> None:
    key = seal.new_sealing_key("上海启明软件科技有限公司")
    sealed = seal.seal_pdf(_blank_pdf(), key, reason="test")
    check = seal.check_seal(sealed, key.cert_pem)
    assert check.signed and check.intact and check.valid and check.covers_whole_file
    assert check.cert_sha256 == key.cert_sha256 and check.message_digest
    tampered = bytearray(sealed)
    tampered[sealed.index(b"\n%") + 3] ^= 0x01
    broken = seal.check_seal(bytes(tampered), key.cert_pem)
    assert broken.signed and not broken.intact and not broken.valid
    other = seal.new_sealing_key("Other")
    assert not seal.check_seal(sealed, other.cert_pem).valid  # not trusted under another tenant's certificate
    assert not seal.check_seal(_blank_pdf()).signed
