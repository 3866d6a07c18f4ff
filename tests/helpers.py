"""Small helpers for integration tests: sign up tenants, log in, run the worker."""

from __future__ import annotations

import asyncio
import email
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from email import policy
from typing import Any

import asyncpg
import httpx

from app import db, outbox
from app.settings import get_settings
from workers.worker import Worker

PASSWORD = "Correct-Horse-42"


@dataclass
class Member:
    token: str
    csrf: str
    email: str
    tenant_slug: str
    tenant_id: str = ""
    user_id: str = ""
    membership_id: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def signup(
    client: Any,
    *,
    slug: str | None = None,
    email_addr: str | None = None,
    locale: str = "en",
    company: str = "测试软件有限公司",
    time_zone: str = "Asia/Shanghai",
    currency: str = "CNY",
) -> Member:
    slug = slug or f"t-{secrets.token_hex(4)}"
    email_addr = email_addr or f"owner-{secrets.token_hex(4)}@example.com"
    r = await client.post(
        "/api/v1/signup",
        json={
            "company_name": company,
            "slug": slug,
            "email": email_addr,
            "password": PASSWORD,
            "name": "Owner 王",
            "locale": locale,
            "time_zone": time_zone,
            "currency": currency,
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    client.cookies.clear()
    member = Member(body["token"], body["csrf_token"], email_addr, slug)
    me = (await client.get("/api/v1/me", headers=member.headers)).json()
    member.tenant_id, member.user_id = me["tenant_id"], me["user_id"]
    members = (await client.get("/api/v1/members", headers=member.headers)).json()["items"]
    member.membership_id = next(m["id"] for m in members if m["user_id"] == member.user_id)
    return member


def mails_to(mailbox: Any, address: str) -> list[email.message.EmailMessage]:
    """The captured messages addressed to ``address``, in arrival order."""
    messages = [email.message_from_bytes(m, policy=policy.default) for m in mailbox.messages]
    return [m for m in messages if m["To"] == address]  # type: ignore[misc]


def last_link(
    mailbox: Any, pattern: str = r"http://testserver\.local/invite/(\S+)", to: str | None = None
) -> str:
    """The link in the last captured message (to ``to``: a burst worker may also deliver mail that
    earlier tests queued, concurrently, so without ``to`` the last message may be someone else's)."""
    if to is None:
        msg = email.message_from_bytes(mailbox.messages[-1], policy=policy.default)
    else:
        found = mails_to(mailbox, to)
        assert found, f"no mail to {to}"
        msg = found[-1]
    body = msg.get_body(preferencelist=("plain",)).get_content()
    match = re.search(pattern, body)
    assert match, body
    return match.group(1)


async def add_member(
    client: Any, owner: Member, mailbox: Any, app: Any, role: str = "rep", email_addr: str | None = None
) -> Member:
    """Invite, deliver the mail through the worker, accept; returns the new member's session."""
    email_addr = email_addr or f"{role}-{secrets.token_hex(4)}@example.com"
    r = await client.post(
        "/api/v1/invitations", json={"email": email_addr, "role": role}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    await run_jobs(app)
    token = last_link(mailbox, to=email_addr)
    r = await client.post(
        f"/api/v1/invitations/{token}/accept", json={"password": PASSWORD, "name": "新成员"}
    )
    assert r.status_code == 201, r.text
    client.cookies.clear()
    body = r.json()
    m = Member(body["token"], body["csrf_token"], email_addr, owner.tenant_slug, owner.tenant_id)
    me = (await client.get("/api/v1/me", headers=m.headers)).json()
    m.user_id = me["user_id"]
    r = await client.get("/api/v1/members", params={"limit": 200}, headers=owner.headers)
    members = r.json()["items"]
    m.membership_id = next(x["id"] for x in members if x["user_id"] == m.user_id)
    return m


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection (e.g. to the ``admin_db`` superuser URL), closed on exit."""
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def run_jobs(app: Any, **overrides: Any) -> None:
    """Relay the outbox and run burst workers until no job is left: jobs that queue further jobs
    (a completion that sends mail) get another round (``overrides`` go to the Worker)."""
    from workers.settings import worker_settings

    for _ in range(10):
        async with db.transaction(None) as tx:
            last_before = await tx.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
        await _drain_once(app, worker_settings(), overrides)
        async with db.transaction(None) as tx:
            if await tx.fetchval("SELECT coalesce(max(id), 0) FROM outbox") == last_before:
                return


async def _drain_once(app: Any, settings: dict[str, Any], overrides: dict[str, Any]) -> None:
    # The API's own relay may hold some rows (SKIP LOCKED) right now: wait until every row is in Redis,
    # or the burst worker could find the queue empty and stop before the job arrives.
    for _ in range(500):
        await outbox.relay(app.state.arq)
        async with db.transaction(None) as tx:
            if not await tx.fetchval("SELECT count(*) FROM outbox WHERE enqueued_at IS NULL"):
                break
        await asyncio.sleep(0.01)
    settings.update(on_startup=None, on_shutdown=None, burst=True, cron_jobs=[])
    settings.update(overrides)
    worker = Worker(**settings)
    try:
        await worker.main()
    finally:
        await worker.close()


@contextmanager
def settings_env(**values: str) -> Iterator[None]:
    """Run with ``ACRE_<NAME>`` environment values set (``login_account_lock_seconds="2"``), the
    settings re-read; both restored on exit. What reads settings at call time sees them at once; an app
    created inside keeps what it read."""
    names = {f"ACRE_{k.upper()}": v for k, v in values.items()}
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update(names)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()


def random_ip() -> str:
    """A client address of a test's own: the per-address counts live in Redis, shared by every run."""
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def client_at(app: Any, ip: str) -> httpx.AsyncClient:
    """An HTTP client to ``app`` coming from ``ip`` (``async with``)."""
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


def limited_app(app: Any, variable: str, per_minute: int) -> Any:
    """A second app whose rate limit ``variable`` (``ACRE_…_RATE_LIMIT_PER_MINUTE``) is ``per_minute``;
    no lifespan of its own: it runs on the ``app`` fixture's database pool, with its storage."""
    import os

    from app.main import create_app
    from app.settings import get_settings

    saved = os.environ.get(variable)
    os.environ[variable] = str(per_minute)
    get_settings.cache_clear()
    try:
        limited = create_app()
    finally:
        if saved is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = saved
        get_settings.cache_clear()
    limited.state.storage = app.state.storage
    return limited
