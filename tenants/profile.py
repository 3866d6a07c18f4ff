"""The dealer's company profile (乙方): legal name, unified social credit code, address, phone, bank
and account, service hotline and response hours, on-site day rate, default free-upgrade period, and
optional logo and seal images. Every member reads it; owners and admins change it.

Versioned: each change inserts a new immutable row (``company_profile_versions``, version 1, 2, …)
and the newest is the profile. A document records the version it was rendered with (its data comes
from that version, never from a later one), so a signed contract keeps the values it was made
with. A save that changes nothing makes no version.

Sharp edges: a blank text field is stored as NULL (empty), never as ``""``; the credit code must
carry a valid check character (GB 32100-2015), unlike customers' codes; images are PNG or JPEG of at
most ``MAX_IMAGE_BYTES`` and ``MAX_IMAGE_PIXELS`` a side, stored once under a key fixed by their
sha256 (an image shared by versions is one object).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import asyncpg
from docx.image.image import Image

from app import audit, credit_code
from app.db import Tx
from app.errors import ValidationFailed
from app.i18n import N_
from app.rows import to_struct
from app.storage import Storage
from tenants.schemas import CompanyProfileRead, CompanyProfileWrite, ProfileImage
from tenants.scope import TenantScope

Slot = Literal["logo", "seal"]
SLOTS: tuple[Slot, ...] = ("logo", "seal")
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096
TEXT_FIELDS = (
    "legal_name",
    "credit_code",
    "address",
    "phone",
    "email",
    "website",
    "bank",
    "bank_account",
    "service_hotline",
)
VALUE_FIELDS = (*TEXT_FIELDS, "response_hours", "onsite_day_rate", "free_upgrade_years")
_IMAGE_FIELDS = tuple(f"{slot}_{part}" for slot in SLOTS for part in ("key", "sha256", "type"))
_IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg"}

M_CREDIT_CODE = N_(
    "Not a valid unified social credit code: 18 digits and capital letters, the last one a check character"
)
M_EMAIL = N_("Not an email address")
M_RATE = N_("Use an amount of at least 0 with at most two decimals")
M_IMAGE_TYPE = N_("Upload a PNG or JPEG image")
M_IMAGE_SIZE = N_("The image is larger than {limit} MB")
M_IMAGE_PIXELS = N_("The image is larger than {limit} pixels on a side")


async def current_version(tx: Tx, tenant: UUID) -> asyncpg.Record | None:
    """The newest version, or None before the first save."""
    return await tx.fetchrow(
        "SELECT * FROM company_profile_versions WHERE tenant = $1 ORDER BY version DESC LIMIT 1", tenant
    )


async def load_version(tx: Tx, tenant: UUID, version_id: UUID | None) -> asyncpg.Record | None:
    """The version with this id (None for None, or an id of another tenant)."""
    if version_id is None:
        return None
    return await tx.fetchrow(
        "SELECT * FROM company_profile_versions WHERE tenant = $1 AND id = $2", tenant, version_id
    )


def image_key(tenant: UUID, slot: Slot, sha256: str, content_type: str) -> str:
    return f"company-profile/{tenant}/{slot}/{sha256}.{_IMAGE_TYPES[content_type]}"


async def _read(scope: TenantScope, storage: Storage, row: asyncpg.Record | None) -> CompanyProfileRead:
    values: dict[str, Any] = (
        dict(row) if row is not None else dict.fromkeys(CompanyProfileRead.__struct_fields__)
    )

    async def image(slot: Slot) -> ProfileImage | None:
        key = values.get(f"{slot}_key")
        if not key:
            return None
        kind = values[f"{slot}_type"]
        url = await storage.presigned_get(key, filename=f"{slot}.{_IMAGE_TYPES[kind]}")
        return ProfileImage(url=url, sha256=values[f"{slot}_sha256"].strip(), content_type=kind)

    return to_struct(
        CompanyProfileRead,
        values,
        version=values["version"] or 0,
        currency=scope.currency,
        logo=await image("logo"),
        seal=await image("seal"),
    )


async def get_profile(scope: TenantScope, storage: Storage) -> CompanyProfileRead:
    """The newest version (any member); an empty profile before the first save."""
    async with scope.tx() as tx:
        row = await current_version(tx, scope.tenant_id)
    return await _read(scope, storage, row)


def _clean(data: CompanyProfileWrite) -> dict[str, Any]:
    """The values to store: blanks as None, the credit code normalised; 422 on a wrong code, email or
    day rate (every wrong field at once)."""
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name in TEXT_FIELDS:
        text = getattr(data, name)
        values[name] = " ".join(text.split()) if text and text.strip() else None
    if values["credit_code"] is not None:
        values["credit_code"] = credit_code.normalize(values["credit_code"])
        if not credit_code.is_valid(values["credit_code"]):
            errors.append({"field": "credit_code", "message": M_CREDIT_CODE})
    if values["email"] is not None and "@" not in values["email"].strip("@"):
        errors.append({"field": "email", "message": M_EMAIL})
    rate = data.onsite_day_rate
    if rate is not None and not (
        rate.is_finite() and 0 <= rate < Decimal(10) ** 12 and rate == rate.quantize(Decimal("0.01"))
    ):
        errors.append({"field": "onsite_day_rate", "message": M_RATE})
    if errors:
        raise ValidationFailed(extra={"errors": errors})
    values["response_hours"] = data.response_hours
    values["onsite_day_rate"] = rate
    values["free_upgrade_years"] = data.free_upgrade_years
    return values


async def _save(tx: Tx, scope: TenantScope, changes: dict[str, Any], action: str) -> asyncpg.Record:
    """Insert the next version: the current one with ``changes``; the current one when nothing changes."""
    await tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{scope.tenant_id}:company-profile")
    current = await current_version(tx, scope.tenant_id)
    base = {f: current[f] if current else None for f in (*VALUE_FIELDS, *_IMAGE_FIELDS)}
    values = {**base, **changes}
    if current is not None and values == base:
        return current
    columns = list(values)
    row = await tx.fetchrow(
        f"INSERT INTO company_profile_versions (tenant, version, created_by, {', '.join(columns)})"
        f" VALUES ($1, $2, $3, {', '.join(f'${i + 4}' for i in range(len(columns)))}) RETURNING *",
        scope.tenant_id,
        (current["version"] if current else 0) + 1,
        scope.membership_id,
        *values.values(),
    )
    assert row is not None
    await audit.record(
        tx,
        scope.user_id,
        action,
        "company_profile",
        row["id"],
        data={"version": row["version"], "fields": sorted(k for k in changes if values[k] != base[k])},
    )
    return row


async def save_profile(scope: TenantScope, storage: Storage, data: CompanyProfileWrite) -> CompanyProfileRead:
    """Replace the profile's fields (owners and admins), keeping its images: a new version."""
    scope.require("admin")
    values = _clean(data)
    async with scope.tx() as tx:
        row = await _save(tx, scope, values, "company_profile.saved")
    return await _read(scope, storage, row)


def _check_image(data: bytes) -> str:
    """The image's content type; 422 on ``file`` unless a PNG or JPEG within the limits."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed.field("file", M_IMAGE_SIZE, limit=MAX_IMAGE_BYTES // 2**20)
    if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        raise ValidationFailed.field("file", M_IMAGE_TYPE)
    try:
        image = Image.from_blob(data)
    except Exception:  # a truncated or damaged file: python-docx raises what the bytes lead it to
        raise ValidationFailed.field("file", M_IMAGE_TYPE) from None
    if image.content_type not in _IMAGE_TYPES:
        raise ValidationFailed.field("file", M_IMAGE_TYPE)
    if not 0 < image.px_width <= MAX_IMAGE_PIXELS or not 0 < image.px_height <= MAX_IMAGE_PIXELS:
        raise ValidationFailed.field("file", M_IMAGE_PIXELS, limit=MAX_IMAGE_PIXELS)
    return str(image.content_type)


async def put_image(scope: TenantScope, storage: Storage, slot: Slot, data: bytes) -> CompanyProfileRead:
    """Set the logo or the seal (owners and admins): a new version. The object is stored before the
    version is committed (a failed commit leaves an object nothing refers to, at the key the same
    image gets again)."""
    scope.require("admin")
    content_type = _check_image(data)
    digest = hashlib.sha256(data).hexdigest()
    key = image_key(scope.tenant_id, slot, digest, content_type)
    await storage.put(key, data, content_type)
    changes = {f"{slot}_key": key, f"{slot}_sha256": digest, f"{slot}_type": content_type}
    async with scope.tx() as tx:
        row = await _save(tx, scope, changes, f"company_profile.{slot}_set")
    return await _read(scope, storage, row)


async def remove_image(scope: TenantScope, storage: Storage, slot: Slot) -> CompanyProfileRead:
    """Drop the logo or the seal (owners and admins): a new version without it (older versions and
    the documents made with them keep theirs)."""
    scope.require("admin")
    changes = {f"{slot}_key": None, f"{slot}_sha256": None, f"{slot}_type": None}
    async with scope.tx() as tx:
        row = await _save(tx, scope, changes, f"company_profile.{slot}_removed")
    return await _read(scope, storage, row)
