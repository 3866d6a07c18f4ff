"""The tenant's sealing key and the PAdES seal (pyHanko).

Each tenant gets an RSA-2048 key and a self-signed certificate at first use. The private key is
stored encrypted at rest: AES-256-GCM under ``ACRE_SIGNING_KEY_ENCRYPTION_KEY`` (any string; its
sha256 is the AES key), with the tenant id as associated data, so a key row copied to another tenant
does not decrypt. Sealing is PAdES B-B, or B-T when ``ACRE_TIMESTAMP_URL`` names an RFC 3161 TSA.
With a TSA configured a seal is B-T or nothing: when the TSA cannot be reached or answers badly,
``seal_pdf`` raises and the completion job retries with backoff; it never falls back to B-B.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from app import db
from app.settings import get_settings
from tenants.cron import for_each_tenant
from tenants.scope import TenantScope


@dataclass(frozen=True)
class SealingKey:
    cert_pem: bytes
    key_pem: bytes

    @property
    def cert_sha256(self) -> str:
        return hashlib.sha256(
            x509.load_pem_x509_certificate(self.cert_pem).public_bytes(serialization.Encoding.DER)
        ).hexdigest()


def current_encryption_secret() -> str:
    """What the stored keys are encrypted under: ``ACRE_SIGNING_KEY_ENCRYPTION_KEY``, else
    ``ACRE_SECRET_KEY`` (so rotating the secret key alone would lose them: docs/operations.md)."""
    return get_settings().signing_key_encryption_key or get_settings().secret_key


def _aes_key(secret: str | None = None) -> bytes:
    return hashlib.sha256((current_encryption_secret() if secret is None else secret).encode()).digest()


def encrypt_key(tenant_id: UUID, key_pem: bytes, secret: str | None = None) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_aes_key(secret)).encrypt(nonce, key_pem, tenant_id.bytes)


def decrypt_key(tenant_id: UUID, blob: bytes, secret: str | None = None) -> bytes:
    return AESGCM(_aes_key(secret)).decrypt(blob[:12], blob[12:], tenant_id.bytes)


class KeysNotDecrypted(Exception):
    """Stored sealing keys that neither the current nor the new secret decrypts (left unchanged)."""


async def reencrypt_sealing_keys(old_secret: str, new_secret: str) -> tuple[int, int]:
    """Re-encrypt every tenant's stored sealing key from ``old_secret`` to ``new_secret`` (``acre
    rotate-signing-key``); returns (re-encrypted, already under the new secret). Each tenant in its own
    transaction (``for_each_tenant``), its row locked, so it may run while the app serves; a rerun after
    an interruption finishes the job (rows already under the new secret are left alone). A row that
    neither secret decrypts is left as it is and, once every tenant has been tried, raises
    ``KeysNotDecrypted`` with their number: with a wrong current secret nothing changes."""
    if not new_secret or new_secret == old_secret:
        raise ValueError("the new key must be given and differ from the current one")
    counts = {"rotated": 0, "already": 0}
    failed: list[UUID] = []

    async def rotate(scope: TenantScope) -> int:
        tenant = scope.tenant_id
        async with scope.tx() as tx:
            blob = await tx.fetchval(
                "SELECT key_encrypted FROM tenant_signing_keys WHERE tenant = $1 FOR UPDATE", tenant
            )
            if blob is None:
                return 0
            try:
                pem = decrypt_key(tenant, bytes(blob), old_secret)
            except InvalidTag:
                try:
                    decrypt_key(tenant, bytes(blob), new_secret)
                except InvalidTag:
                    failed.append(tenant)
                    return 0
                counts["already"] += 1
                return 0
            await tx.execute(
                "UPDATE tenant_signing_keys SET key_encrypted = $2 WHERE tenant = $1",
                tenant,
                encrypt_key(tenant, pem, new_secret),
            )
            counts["rotated"] += 1
            return 1

    await for_each_tenant("rotate-signing-key", rotate)
    if failed:
        raise KeysNotDecrypted(f"{len(failed)} stored keys decrypt under neither key; they are unchanged")
    return counts["rotated"], counts["already"]


def new_sealing_key(common_name: str) -> SealingKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, (common_name or "Acre")[:60]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acre e-signature seal"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return SealingKey(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


async def tenant_sealing_key(tx: db.Tx) -> SealingKey:
    """The tenant's key, made (and stored encrypted) at first use. Concurrent first uses agree:
    the insert is ``ON CONFLICT DO NOTHING`` and everybody reads the stored row."""
    tenant = tx.tenant_id
    assert tenant is not None
    row = await tx.fetchrow(
        "SELECT cert_pem, key_encrypted FROM tenant_signing_keys WHERE tenant = $1", tenant
    )
    if row is None:
        name = await tx.fetchval("SELECT name FROM tenants WHERE id = $1", tenant) or "Acre"
        made = await asyncio.to_thread(new_sealing_key, str(name))
        await tx.execute(
            "INSERT INTO tenant_signing_keys (tenant, cert_pem, cert_sha256, key_encrypted)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (tenant) DO NOTHING",
            tenant,
            made.cert_pem.decode(),
            made.cert_sha256,
            encrypt_key(tenant, made.key_pem),
        )
        row = await tx.fetchrow(
            "SELECT cert_pem, key_encrypted FROM tenant_signing_keys WHERE tenant = $1", tenant
        )
        assert row is not None
    return SealingKey(
        cert_pem=row["cert_pem"].encode(), key_pem=decrypt_key(tenant, bytes(row["key_encrypted"]))
    )


class _LoadedKeySigner(signers.SimpleSigner):
    """``SimpleSigner`` with the key parsed once: pyHanko's own ``sign_raw`` re-parses the DER key on
    every signature, and parsing an RSA key (with its consistency checks) costs ~120 ms, far more than
    the rest of sealing. Our keys are RSA PKCS#1 v1.5 (``prefer_pss`` is off)."""

    def __init__(self, private: rsa.RSAPrivateKey, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private = private

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        return self._private.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


@lru_cache(maxsize=64)
def _signer(key: SealingKey) -> signers.SimpleSigner:
    """The signer of a key, cached (per process) by the key itself."""
    cert = asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate(key.cert_pem).public_bytes(serialization.Encoding.DER)
    )
    # our own key, decrypted with authenticated encryption: the (slow) RSA consistency check adds nothing
    private = serialization.load_pem_private_key(
        key.key_pem, password=None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(private, rsa.RSAPrivateKey)
    key_info = asn1_keys.PrivateKeyInfo.load(
        private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return _LoadedKeySigner(
        private,
        signing_cert=cert,
        signing_key=key_info,
        cert_registry=SimpleCertificateStore.from_certs([cert]),
    )


def seal_pdf(pdf: bytes, key: SealingKey, *, reason: str, location: str = "Acre") -> bytes:
    """PAdES B-B (B-T with a TSA configured) over ``pdf``; returns the sealed file (an incremental
    update of ``pdf``, so the original bytes are a prefix of it)."""
    tsa_url = get_settings().timestamp_url
    meta = signers.PdfSignatureMetadata(
        field_name="AcreSeal",
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = signers.sign_pdf(
        writer,
        meta,
        signer=_signer(key),
        timestamper=HTTPTimeStamper(tsa_url) if tsa_url else None,
        bytes_reserved=32768 if tsa_url else 12288,  # a fixed reserve: no dry-run signing to size it
    )
    sealed: bytes = out.getvalue()
    return sealed


@dataclass(frozen=True)
class SealCheck:
    signed: bool
    intact: bool
    valid: bool
    cert_sha256: str | None
    message_digest: str | None
    signed_at: datetime | None
    covers_whole_file: bool


def check_seal(pdf: bytes, trusted_cert_pem: bytes | None = None) -> SealCheck:
    """Inspect the last signature of ``pdf``. ``intact``: the signed bytes still hash to the signed
    digest; ``valid``: intact, cryptographically valid and issued by ``trusted_cert_pem`` (default: the
    signature's own certificate)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        sigs = reader.embedded_signatures
    except Exception:
        return SealCheck(False, False, False, None, None, None, False)
    if not sigs:
        return SealCheck(False, False, False, None, None, None, False)
    sig = sigs[-1]
    cert_der = sig.signer_cert.dump()
    digest: Any = sig.signer_info["signed_attrs"]
    message_digest = None
    for attr in digest:
        if attr["type"].native == "message_digest":
            message_digest = attr["values"][0].native.hex()
    roots = (
        [
            asn1_x509.Certificate.load(
                x509.load_pem_x509_certificate(trusted_cert_pem).public_bytes(serialization.Encoding.DER)
            )
        ]
        if trusted_cert_pem
        else [sig.signer_cert]
    )
    try:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots), skip_diff=False)
        intact, valid = bool(status.intact), bool(status.intact and status.valid and status.trusted)
        signed_at = status.signer_reported_dt
    except Exception:
        intact, valid, signed_at = False, False, None
    return SealCheck(
        signed=True,
        intact=intact,
        valid=valid,
        cert_sha256=hashlib.sha256(cert_der).hexdigest(),
        message_digest=message_digest,
        signed_at=signed_at,
        covers_whole_file=sig.coverage is not None and sig.coverage.name == "ENTIRE_FILE",
    )
