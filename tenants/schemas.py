from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Locale = Literal["zh-CN", "en"]
RoleName = Literal["owner", "admin", "manager", "rep"]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]


class SignupCreate(msgspec.Struct, forbid_unknown_fields=True):
    company_name: Name
    slug: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    email: Email
    password: Password
    name: Name
    locale: Locale = "zh-CN"
    time_zone: str = "Asia/Shanghai"
    currency: str = "CNY"


class LoginCreate(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    tenant: str | None = None


class TenantChoice(msgspec.Struct):
    slug: str
    name: str
    role: str


class SessionRead(msgspec.Struct):
    token: str
    csrf_token: str
    expires_at: datetime
    tenant: TenantChoice


class LoginRead(msgspec.Struct):
    """Either a session, or (several tenants, none named) the tenants to choose from."""

    session: SessionRead | None = None
    choose_tenant: list[TenantChoice] | None = None


class MeRead(msgspec.Struct):
    user_id: UUID
    email: str
    name: str
    locale: str
    role: str
    tenant_id: UUID
    tenant_name: str
    tenant_slug: str
    time_zone: str
    currency: str
    warnings: list[str] = msgspec.field(default_factory=list)


class MemberRead(msgspec.Struct):
    id: UUID
    user_id: UUID
    email: str
    name: str
    role: str
    active: bool
    created_at: datetime
    deactivated_at: datetime | None = None


class MemberUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: RoleName


class InvitationCreate(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    role: RoleName = "rep"
    locale: Locale | None = None
    # the territories the invitee joins on accepting: a manager or higher as their manager, anyone
    # else as a rep; each of this tenant and managed by the inviter
    territory_ids: Annotated[list[UUID], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)


class InvitationTerritoryRead(msgspec.Struct):
    id: UUID
    name: str
    role: Literal["manager", "rep"]


class InvitationRead(msgspec.Struct):
    id: UUID
    email: str
    role: str
    status: Literal["pending", "accepted", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    territories: list[InvitationTerritoryRead] = msgspec.field(default_factory=list)


class InvitationAccept(msgspec.Struct, forbid_unknown_fields=True):
    password: Password
    name: Name | None = None


class PasswordResetCreate(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    locale: Locale | None = None  # of the mail when the account has none (else the request's language)


class PasswordResetRequested(msgspec.Struct):
    """The same answer whether or not an account uses the email."""

    detail: str


class PasswordResetConfirm(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Password


class PasswordResetDone(msgspec.Struct):
    email: str


class CompanyProfileWrite(msgspec.Struct, forbid_unknown_fields=True):
    """The whole profile (a field left out or blank is empty); images have their own routes."""

    legal_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    credit_code: Annotated[str, msgspec.Meta(max_length=40)] | None = None  # 统一社会信用代码, checked
    address: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    website: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    bank: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    bank_account: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    service_hotline: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    response_hours: Annotated[int, msgspec.Meta(ge=1, le=168)] | None = None  # working hours to answer
    onsite_day_rate: Decimal | None = None  # per engineer-day, in the company's currency
    free_upgrade_years: Annotated[int, msgspec.Meta(ge=0, le=10)] | None = None  # the contracts' default


class ProfileImage(msgspec.Struct):
    url: str  # short-lived presigned GET
    sha256: str
    content_type: str


class CompanyProfileRead(msgspec.Struct):
    """The newest version; ``id`` None and ``version`` 0 until the first save."""

    id: UUID | None
    version: int
    legal_name: str | None
    credit_code: str | None
    address: str | None
    phone: str | None
    email: str | None
    website: str | None
    bank: str | None
    bank_account: str | None
    service_hotline: str | None
    response_hours: int | None
    onsite_day_rate: Decimal | None
    free_upgrade_years: int | None
    currency: str
    logo: ProfileImage | None
    seal: ProfileImage | None
    created_at: datetime | None
    created_by: UUID | None


KeyScope = Literal["leads:write", "customers:read", "deals:read", "territories:read"]


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[KeyScope], msgspec.Meta(min_length=1, max_length=10)]


class ApiKeyRead(msgspec.Struct):
    id: UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    created_by_name: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(msgspec.Struct):
    """The new key; ``secret`` is shown this once (only its sha256 is kept)."""

    key: ApiKeyRead
    secret: str
