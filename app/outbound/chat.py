"""Team-chat robots: a territory's group robot in WeCom (企业微信), DingTalk (钉钉) or Feishu (飞书)
posts the notifications its members get in-app, for the kinds chosen per robot. Owners, admins and
the territory's managers set them up. ``notify`` queues the posts (``app.outbound.chat_fanout``);
the ``post_chat`` job renders the message in the company's language and posts it in the vendor's
documented format:

- WeCom group robot: ``{"msgtype": "text", "text": {"content": …}}``; answers ``{"errcode": 0}``.
- DingTalk custom robot: the same body; with a signing secret (``SEC…``) the URL gets ``timestamp``
  (milliseconds) and ``sign`` = url-encoded base64(HMAC-SHA256(key=secret, msg="<timestamp>\\n<secret>"));
  answers ``{"errcode": 0}``.
- Feishu custom bot: ``{"msg_type": "text", "content": {"text": …}}``; with a secret the body gets
  ``timestamp`` (seconds) and ``sign`` = base64(HMAC-SHA256(key="<timestamp>\\n<secret>", msg=""));
  answers ``{"code": 0}``.

A failed post (HTTP error, or the vendor's non-zero code) is retried by ARQ (``Retry``, deferred like
webhooks: ``ACRE_WEBHOOK_RETRY_BASE_SECONDS`` doubling, up to the worker's ``max_tries``); the robot's
last status and error are kept for the settings page. A chat message is a convenience copy of an
in-app notification, so unlike a webhook it is not kept past those tries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any, Final, get_args
from urllib.parse import quote_plus, urlsplit
from uuid import UUID

import asyncpg
import structlog
from arq import Retry
from msgspec import UNSET

from app import audit
from app.db import Tx, transaction
from app.errors import NotFound
from app.i18n import N_, translate
from app.notifications.service import KINDS
from app.outbound.http import client
from app.outbound.schemas import ChannelCreate, ChannelRead, ChannelUpdate, ChatKind, Provider
from app.outbound.urls import check_resolved, check_url
from app.settings import get_settings
from tenants.access.territories import manages, require_manages
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)

PROVIDERS: Final = get_args(Provider)
CHAT_KINDS: Final[tuple[str, ...]] = get_args(ChatKind)
M_TEST = N_("This group now hears from Acre ({company}).")


class ChatRefused(Exception):
    """The robot did not take the message (an HTTP error or the vendor's error code)."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign``: base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")), not yet url-encoded."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def feishu_sign(secret: str, timestamp: int) -> str:
    """Feishu's ``sign``: base64(HMAC-SHA256 keyed with "<timestamp>\\n<secret>" over an empty message)."""
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def request_for(
    provider: str, url: str, secret: str | None, text: str, now: float | None = None
) -> tuple[str, bytes]:
    """The URL and JSON body to post ``text`` to a robot of ``provider``."""
    now = time.time() if now is None else now
    body: dict[str, Any]
    if provider == "feishu":
        body = {"msg_type": "text", "content": {"text": text}}
        if secret:
            ts = int(now)
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
    else:  # WeCom and DingTalk share the text message
        body = {"msgtype": "text", "text": {"content": text}}
        if provider == "dingtalk" and secret:
            ms = int(now * 1000)
            joiner = "&" if urlsplit(url).query else "?"
            url = f"{url}{joiner}timestamp={ms}&sign={quote_plus(dingtalk_sign(secret, ms))}"
    return url, json.dumps(body, ensure_ascii=False).encode()


def accepted(provider: str, status: int, answer: str) -> str | None:
    """None when the robot took the message, else why not."""
    if not 200 <= status < 300:
        return f"HTTP {status}: {answer[:300]}"
    try:
        data = json.loads(answer) if answer else {}
    except ValueError:
        return f"not JSON: {answer[:300]}"
    code = data.get("code", data.get("StatusCode", 0)) if provider == "feishu" else data.get("errcode", 0)
    if code not in (0, None):
        return f"code {code}: {data.get('msg') or data.get('errmsg') or ''}"[:300]
    return None


async def send(provider: str, url: str, secret: str | None, text: str) -> tuple[int | None, str | None]:
    """Post ``text``; (HTTP status, error or None)."""
    target, body = request_for(provider, url, secret, text)
    try:
        await check_resolved(target)
        response = await client().post(target, content=body, headers={"Content-Type": "application/json"})
    except Exception as exc:  # a refused address, a timeout, a connection error
        return None, (f"{type(exc).__name__}: {exc}")[:300]
    return response.status_code, accepted(provider, response.status_code, response.text)


_NOTICE = """
SELECT n.kind, n.params, u.name AS member, t.locale, t.name AS company, ch.provider, ch.url, ch.secret,
       ch.active
FROM notifications n
JOIN memberships m ON m.tenant = n.tenant AND m.id = n.membership_id
JOIN users u ON u.id = m.user_id
JOIN tenants t ON t.id = n.tenant
JOIN chat_channels ch ON ch.tenant = n.tenant AND ch.id = $3
WHERE n.tenant = $1 AND n.id = $2
"""


def message(locale: str, kind: str, params: Mapping[str, Any], member: str) -> str:
    """The group's text: the notification in the company's language, addressed to its recipient."""
    text = translate(locale, KINDS.get(kind, kind), **{k: str(v) for k, v in params.items()})
    return f"[Acre] @{member} {text}"


async def post_chat(ctx: dict[str, Any], tenant_id: str, channel_id: str, notification_id: str) -> str:
    """Post one notification to one robot; raises when the robot refuses (ARQ retries)."""
    tenant = UUID(tenant_id)
    async with transaction(tenant) as tx:
        row = await tx.fetchrow(_NOTICE, tenant, UUID(notification_id), UUID(channel_id))
    if row is None:
        return "skipped-missing"
    if not row["active"]:
        return "skipped-inactive"
    params = json.loads(row["params"]) if isinstance(row["params"], str) else row["params"]
    text = message(row["locale"], row["kind"], params, row["member"])
    status, error = await send(row["provider"], row["url"], row["secret"], text)
    async with transaction(tenant) as tx:
        await tx.execute(
            "UPDATE chat_channels SET last_sent_at = now(), last_status = $3, last_error = $4"
            " WHERE tenant = $1 AND id = $2",
            tenant,
            UUID(channel_id),
            status,
            error,
        )
    if error is not None:
        log.info("chat post refused", channel_id=channel_id, error=error)
        tries = int(ctx.get("job_try") or 1)
        delay = get_settings().webhook_retry_base_seconds * 2 ** (tries - 1)
        raise Retry(defer=delay) from ChatRefused(error)
    return "sent"


# -- robots: set up by owners, admins and the territory's managers -----------------------------------

_COLUMNS = (
    "id, territory_id, provider, name, url, secret IS NOT NULL AS signed, kinds, active, created_at,"
    " updated_at, last_sent_at, last_status, last_error"
)


def masked(url: str) -> str:
    """The robot's URL with its token hidden (the URL is a secret: anyone holding it can post)."""
    parts = urlsplit(url)
    tail = (parts.path + ("?" + parts.query if parts.query else ""))[-4:]
    return f"{parts.scheme}://{parts.netloc}/…{tail}"


async def _row(tx: Tx, channel_id: UUID) -> asyncpg.Record:
    row = await tx.fetchrow(
        f"SELECT {_COLUMNS} FROM chat_channels WHERE tenant = $1 AND id = $2", tx.tenant_id, channel_id
    )
    if row is None:
        raise NotFound("No chat robot with this id")
    return row


async def _territory(tx: Tx, territory_id: UUID) -> None:
    if not await tx.fetchval(
        "SELECT EXISTS (SELECT 1 FROM territories WHERE tenant = $1 AND id = $2)", tx.tenant_id, territory_id
    ):
        raise NotFound("No territory with this id")


def read(row: Mapping[str, Any]) -> ChannelRead:
    return ChannelRead(
        id=row["id"],
        territory_id=row["territory_id"],
        provider=row["provider"],
        name=row["name"],
        url=masked(row["url"]),
        signed=row["signed"],
        kinds=list(row["kinds"]),
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_sent_at=row["last_sent_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
    )


async def list_channels(scope: TenantScope, territory_id: UUID | None = None) -> list[ChannelRead]:
    """The robots the caller may manage (all for owners and admins; a manager's territories')."""
    scope.require("manager")
    async with scope.tx() as tx:
        rows = await tx.fetch(
            f"SELECT {_COLUMNS} FROM chat_channels WHERE tenant = $1"
            " AND ($2::uuid IS NULL OR territory_id = $2) ORDER BY created_at, id",
            scope.tenant_id,
            territory_id,
        )
        allowed = []
        for row in rows:
            if scope.at_least("admin") or await manages(tx, scope, row["territory_id"]):
                allowed.append(read(row))
    return allowed


async def create_channel(scope: TenantScope, data: ChannelCreate) -> ChannelRead:
    url = check_url("url", data.url)
    async with scope.tx() as tx:
        await _territory(tx, data.territory_id)
        await require_manages(tx, scope, data.territory_id)
        new_id = await tx.fetchval(
            "INSERT INTO chat_channels (tenant, territory_id, provider, name, url, secret, kinds, active)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            scope.tenant_id,
            data.territory_id,
            data.provider,
            data.name.strip(),
            url,
            (data.secret or "").strip() or None,
            sorted(set(data.kinds)),
            data.active,
        )
        await audit.record(
            tx,
            scope.user_id,
            "chat_channel.created",
            "chat_channel",
            new_id,
            data={"provider": data.provider},
        )
        return read(await _row(tx, new_id))


async def _managed(tx: Tx, scope: TenantScope, channel_id: UUID) -> asyncpg.Record:
    row = await _row(tx, channel_id)
    await require_manages(tx, scope, row["territory_id"])
    return row


async def get_channel(scope: TenantScope, channel_id: UUID) -> ChannelRead:
    async with scope.tx() as tx:
        return read(await _managed(tx, scope, channel_id))


async def update_channel(scope: TenantScope, channel_id: UUID, data: ChannelUpdate) -> ChannelRead:
    url = check_url("url", data.url) if data.url is not UNSET else None
    async with scope.tx() as tx:
        await _managed(tx, scope, channel_id)
        secret = None if data.secret is UNSET else ((data.secret or "").strip() or "")
        await tx.execute(
            "UPDATE chat_channels SET url = coalesce($3, url), name = coalesce($4, name),"
            " kinds = coalesce($5, kinds), active = coalesce($6, active),"
            " secret = CASE WHEN $7::text IS NULL THEN secret WHEN $7 = '' THEN NULL ELSE $7 END,"
            " updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            channel_id,
            url,
            data.name.strip() if data.name is not UNSET else None,
            sorted(set(data.kinds)) if data.kinds is not UNSET else None,
            data.active if data.active is not UNSET else None,
            secret,
        )
        await audit.record(tx, scope.user_id, "chat_channel.updated", "chat_channel", channel_id)
        return read(await _row(tx, channel_id))


async def delete_channel(scope: TenantScope, channel_id: UUID) -> None:
    async with scope.tx() as tx:
        await _managed(tx, scope, channel_id)
        await tx.execute(
            "DELETE FROM chat_channels WHERE tenant = $1 AND id = $2", scope.tenant_id, channel_id
        )
        await audit.record(tx, scope.user_id, "chat_channel.deleted", "chat_channel", channel_id)


async def test_channel(scope: TenantScope, channel_id: UUID) -> ChannelRead:
    """Post a test message now (not queued: the caller sees the answer); the result is the robot's
    last status and error."""
    async with scope.tx() as tx:
        await _managed(tx, scope, channel_id)
        full = await tx.fetchrow(
            "SELECT provider, url, secret FROM chat_channels WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            channel_id,
        )
    assert full is not None
    text = "[Acre] " + translate(scope.tenant_locale, M_TEST, company=scope.tenant_name)
    status, error = await send(full["provider"], full["url"], full["secret"], text)
    async with scope.tx() as tx:
        await tx.execute(
            "UPDATE chat_channels SET last_sent_at = now(), last_status = $3, last_error = $4"
            " WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            channel_id,
            status,
            error,
        )
        return read(await _row(tx, channel_id))
