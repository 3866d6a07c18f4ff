"""Pure parts of e-signature: the evidence hash chain's content, the sealing key's encryption at rest,
signing-link parsing, the PAdES seal and what tampering does to it, the consent texts, the certificate
of completion's content and QR code (no database, no network)."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidTag
from docx import Document as DocxDocument
from PIL import Image
from pypdf import PdfWriter

from app.localtime import local_stamp
from app.settings import get_settings
from app.signing import certificate, consent, evidence, seal
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


# The consent texts ever shown, by version: a text is never changed under its version (the evidence of
# envelopes signed with it points at it); a new text gets a new version and a line here.
CONSENT_SHA256 = {"v1": "f041d066e28a8387cd5a11ac7ea748cd770219e66671b71e1463dffc58843810"}


def test_each_consent_version_names_one_text_for_good() -> None:
    assert {v: hashlib.sha256(t.encode()).hexdigest() for v, t in consent.TEXTS.items()} == CONSENT_SHA256
    assert consent.VERSION in consent.TEXTS
    assert "上海启明" in consent.text("v1", "zh-CN", "上海启明") and "免费索取纸质副本" in consent.text(
        "v1", "zh-CN", "上海启明"
    )


def test_local_stamp_shows_the_offset_of_that_instant() -> None:
    winter, summer = datetime(2026, 1, 15, 12, 0, tzinfo=UTC), datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    assert local_stamp(winter, "Asia/Shanghai") == "2026-01-15 20:00:00 UTC+08:00"
    assert local_stamp(winter, "America/New_York") == "2026-01-15 07:00:00 UTC-05:00"
    assert local_stamp(summer, "America/New_York") == "2026-07-15 08:00:00 UTC-04:00"
    assert local_stamp(summer, "Asia/Kolkata") == "2026-07-15 17:30:00 UTC+05:30"
    assert local_stamp(summer, "Not/AZone") == "2026-07-15 12:00:00 UTC+00:00"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_certificate_names_every_fact_in_the_senders_language(locale: str) -> None:
    at = datetime(2026, 12, 3, 2, 4, 5, tzinfo=UTC)
    typed, drawn = uuid.uuid4(), uuid.uuid4()
    env = {
        "id": uuid.uuid4(),
        "sender_locale": locale,
        "title": "软件销售合同",
        "sender_name": "王经理",
        "sender_email": "wang@example.com",
        "sent_at": at,
        "original_sha256": "a" * 64,
    }
    people = [
        {
            "id": sid,
            "name": name,
            "email": f"{sid}@example.com",
            "locale": language,
            "signature_kind": kind,
            "typed_name": "李雷" if kind == "typed" else None,
            "notified_at": at,
            "viewed_at": at,
            "consented_at": at,
            "signed_at": at,
            "ip": "203.0.113.7",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        }
        for sid, name, language, kind in ((typed, "李雷", "zh-CN", "typed"), (drawn, "Ann", "en", "drawn"))
    ]
    facts = certificate.Facts("上海启明", "Asia/Shanghai", 9, "b" * 64, {typed: ("v1", "zh-CN")})
    docx = certificate.build_docx(
        env, people, facts, signed_sha256="c" * 64, completed_at=at, verify_url="https://acre.example/verify"
    )
    document = DocxDocument(io.BytesIO(docx))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    text = "\n".join([p.text for p in document.paragraphs] + cells)
    for fact in ("a" * 64, "b" * 64, "c" * 64, str(env["id"]), "软件销售合同", "王经理 <wang@example.com>"):
        assert fact in cells
    assert cells.count("2026-12-03 10:04:05 UTC+08:00") == 2 + 4 * 2  # sent, completed, 4 per signer
    assert cells.count("203.0.113.7") == 2 and "v1 (zh-CN)" in cells and "v1 (en)" in cells
    assert "https://acre.example/verify" in text and "Asia/Shanghai" in text
    assert consent.text("v1", "zh-CN", "上海启明") in text and consent.text("v1", "en", "上海启明") in text
    title = "签署完成证明" if locale == "zh-CN" else "Certificate of completion"
    assert document.paragraphs[0].text == title and len(document.inline_shapes) == 1  # the QR code


def test_the_qr_code_is_the_text_module_by_module() -> None:
    from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel

    image = Image.open(io.BytesIO(certificate.qr_png("https://acre.example/verify")))
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData("https://acre.example/verify")
    code.make()
    size = len(code.modules) + 2 * certificate.QR_BORDER
    assert image.size == (size * certificate.QR_SCALE, size * certificate.QR_SCALE)
    centre = certificate.QR_SCALE // 2
    seen = [
        [
            image.getpixel(
                (
                    (x + certificate.QR_BORDER) * certificate.QR_SCALE + centre,
                    (y + certificate.QR_BORDER) * certificate.QR_SCALE + centre,
                )
            )
            == 0
            for x in range(len(code.modules))
        ]
        for y in range(len(code.modules))
    ]
    assert seen == [[bool(m) for m in row] for row in code.modules]
    assert image.getpixel((0, 0)) != 0  # the quiet zone is white
