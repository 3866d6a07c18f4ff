"""No mail links to a page that does not exist: every mail template rendered with sample context, every
link in it requested against the running app (the app's pages after login; other hosts, such as a
presigned download, as they are). A page the app does not serve yet gets no link (``app.pages``).

The links are the producers' own: made by ``app.pages.url`` (a unit test fails when a module spells a
link itself), with real tokens and ids, from the mails the app queues where a link carries a token."""

from __future__ import annotations

import html
import re
import secrets
from pathlib import Path
from typing import Any

import httpx
from jinja2 import meta

from app import mail, pages
from app.sales.field.weekly_generation import generate, previous_week
from tenants.scope import TenantScope
from tests.factories import assign, customer, db_value, territory
from tests.helpers import PASSWORD, last_link, run_jobs, signup
from tests.integration.deals.support import deal
from tests.integration.signing.support import link_for, make_envelope, ready_contract, signer

TEMPLATES = Path(mail.__file__).parent / "templates" / "email"
BASE = re.escape("http://testserver.local")
URL = re.compile(r"""https?://[^\s"'<>]+""")


class Sample(str):
    """A stand-in for any template variable but ``link``: a string that also has every attribute and
    item (another Sample), iterates as one Sample, and called (``.items()``) maps one to another."""

    def __new__(cls, text: str = "样例 Sample") -> Sample:
        return super().__new__(cls, text)

    def __getattr__(self, name: str) -> Sample:
        if name.startswith("__"):
            raise AttributeError(name)
        return Sample()

    def __getitem__(self, key: object) -> Sample:  # type: ignore[override]
        return Sample()

    def __iter__(self) -> Any:
        return iter([Sample()])

    def __call__(self, *args: object, **kwargs: object) -> list[tuple[Sample, Sample]]:
        return [(Sample(), Sample())]


def _variables(template: str) -> set[str]:
    env = mail._templates
    found: set[str] = set()
    for ext in ("subject", "txt", "html"):
        source = (TEMPLATES / f"{template}.{ext}").read_text(encoding="utf-8")
        found |= meta.find_undeclared_variables(env.parse(source))
    return found - {"_", "locale"}


def _links(template: str, link: str | None, locale: str) -> set[str]:
    context: dict[str, Any] = {name: Sample() for name in _variables(template)}
    context["link"] = link
    _subject, text, body = mail.render(template, locale, **context)
    return {html.unescape(u).rstrip(".,;:)") for u in URL.findall(text + body)}


async def test_every_link_of_every_mail_answers(client: Any, app: Any, mailbox: Any, admin_db: str) -> None:
    owner = await signup(client, locale="zh-CN")
    area = await territory(client, owner, f"华东{secrets.token_hex(2)}")
    await assign(client, owner, area["id"], owner, "manager")  # a territory with a manager: a weekly report
    company = await customer(client, owner, area["id"])
    opportunity = await deal(client, owner, company["id"])
    r = await client.post(
        "/api/v1/market-incidents",
        json={"title": "竞品降价", "description": "对手报价低 30%", "severity": "serious"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    incident = r.json()
    await generate(await TenantScope.for_job(owner.tenant_id), previous_week("Asia/Shanghai"))
    report_id = await db_value(admin_db, "SELECT id FROM weekly_reports WHERE tenant = $1", owner.tenant_id)
    invited = f"inv-{secrets.token_hex(4)}@example.com"
    body = {"email": invited, "role": "rep"}
    r = await client.post("/api/v1/invitations", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    await run_jobs(app)  # the weekly report's mail to the owner goes first: the reset's is their last
    r = await client.post("/api/v1/auth/password-reset", json={"email": owner.email})
    assert r.status_code == 202, r.text
    document = await ready_contract(client, app, owner)
    person = signer()
    await make_envelope(client, owner, document, [person])
    await run_jobs(app)
    sign = link_for(mailbox, person["email"])
    download = (await client.get(f"/api/v1/documents/{document}", headers=owner.headers)).json()["pdf"]["url"]

    link = {  # template -> the link its producer passes (None: the page is not served yet)
        "invitation": last_link(mailbox, rf"({BASE}/invite/\S+)", to=invited),
        "password_reset": last_link(mailbox, rf"({BASE}/reset-password/\S+)", to=owner.email),
        "signing_request": pages.url(pages.SIGN, token=sign),
        "signing_reminder": pages.url(pages.SIGN, token=sign),
        "signing_completed": download,  # the sender's and CC's: a presigned download (signers': /sign/…)
        "approval_decided": pages.url(pages.DEAL, deal_id=opportunity["id"]),
        "briefing": pages.url(pages.HOME),
        "collection_reminder": pages.url(pages.COLLECTIONS, {"owner": owner.membership_id}),
        "handover_received": pages.url(pages.CUSTOMERS),
        "market_incident": pages.url(pages.MARKET_INCIDENT, incident_id=incident["id"]),
        "ownership_statement": pages.url(pages.STATEMENTS),
        "reclaim_warning": pages.url(pages.CUSTOMER, customer_id=company["id"]),
        "weekly_report": pages.url(pages.WEEKLY_REPORT, report_id=report_id),
    }
    templates = sorted(p.stem for p in TEMPLATES.glob("*.subject"))
    assert templates and not set(link) - set(templates)
    # every template that takes a link has its producer's link here
    assert sorted(t for t in templates if "link" in _variables(t)) == sorted(link)

    found: dict[str, set[str]] = {}
    for template in templates:
        for locale in ("zh-CN", "en"):
            for url in _links(template, link.get(template), locale):
                found.setdefault(url, set()).add(template)
    assert {u for u in link.values() if u} <= set(found)  # each link given is in its mail

    login = await client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert login.status_code == 200, login.text  # the session cookie: pages behind a login answer too
    try:
        for url, used_by in sorted(found.items()):
            if url.startswith("http://testserver.local"):
                r = await client.get(url.removeprefix("http://testserver.local"))
            else:
                async with httpx.AsyncClient() as http:
                    r = await http.get(url)
            assert r.status_code == 200, f"{url} (in {sorted(used_by)}) answers {r.status_code}"
    finally:
        client.cookies.clear()


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_the_served_pages_are_those_the_app_serves(app: Any) -> None:
    """``app.pages.SERVED`` is exactly the pages of ``PAGES`` that the app answers GET on: a page the
    web app adds gets its mail links back (and this fails until SERVED says so)."""
    served = {_shape(r.path) for r in app.routes if "GET" in getattr(r, "methods", ())}
    assert {p for p in pages.PAGES if _shape(p) in served} == pages.SERVED
