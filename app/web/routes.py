"""Server-rendered pages: the web app (sign in, Today, pool, customers), its built assets, the
invitation and password-reset pages, and the development mail viewer (``acre dev`` only)."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from typing import Any

from litestar import Request, get
from litestar.response import Template

from app.errors import NotFound
from app.settings import get_settings
from app.web import (
    access_requests,
    approvals,
    billing,
    commission,
    conflicts,
    customer_merge,
    customer_page,
    customers,
    dashboard,
    deals,
    divisions,
    documents,
    envelopes,
    field,
    handovers,
    home,
    imports,
    integrations,
    lead_settings,
    members,
    notifications,
    offboarding,
    onboarding,
    pool,
    pool_fields,
    pool_settings,
    realignments,
    registrations,
    settings_pages,
    signup,
    statements,
    team_customers,
    team_reports,
    templates_admin,
    territories,
)
from app.web.assets import static_file
from app.web.inquiry import ROUTES as INQUIRY_ROUTES
from app.web.invite import invite_accept, invite_page
from app.web.password_reset import ROUTES as PASSWORD_RESET_ROUTES
from app.web.sign_in import ROUTES as SIGN_IN_ROUTES


def _dev_mails(limit: int = 200) -> list[dict[str, Any]]:
    directory = get_settings().dev_mail_dir
    if directory is None:
        raise NotFound()
    files = sorted(directory.glob("*.eml"), reverse=True)[:limit] if directory.exists() else []
    mails = []
    for path in files:
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        mails.append(
            {
                "id": path.stem,
                "from": str(msg["From"]),
                "to": str(msg["To"]),
                "subject": str(msg["Subject"]),
                "date": str(msg["Date"] or ""),
                "text": text.get_content() if text else "",
                "html": html.get_content() if html else None,
            }
        )
    return mails


# its styles are inline (a development tool, not the app's layout): no script, as everywhere
_DEV_MAIL_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; form-action 'self';"
    " base-uri 'none'; frame-ancestors 'none'"
)


@get("/dev/mail", include_in_schema=False)
async def dev_mail(request: Request[Any, Any, Any]) -> Template:
    return Template(
        template_name="dev_mail.html",
        context={"mails": _dev_mails()},
        headers={"Content-Security-Policy": _DEV_MAIL_CSP},
    )


@get("/dev/mail.json", include_in_schema=False)
async def dev_mail_json() -> list[dict[str, Any]]:
    return _dev_mails()


ROUTES: list[Any] = [
    static_file,
    home.ROUTER,
    *SIGN_IN_ROUTES,
    pool.ROUTER,
    imports.ROUTER,
    customers.ROUTER,
    customer_page.ROUTER,
    customer_merge.ROUTER,
    field.ROUTER,
    notifications.ROUTER,
    team_customers.ROUTER,
    handovers.ROUTER,
    offboarding.ROUTER,
    conflicts.ROUTER,
    approvals.ROUTER,
    access_requests.ROUTER,
    territories.ROUTER,
    divisions.ROUTER,
    realignments.ROUTER,
    deals.ROUTER,
    registrations.ROUTER,
    documents.ROUTER,
    envelopes.ROUTER,
    templates_admin.ROUTER,
    dashboard.ROUTER,
    team_reports.ROUTER,
    dev_mail,
    dev_mail_json,
    invite_page,
    invite_accept,
    *PASSWORD_RESET_ROUTES,
    *signup.ROUTES,
    onboarding.ROUTER,
    members.ROUTER,
    billing.ROUTER,
    settings_pages.ROUTER,
    pool_settings.ROUTER,
    pool_fields.ROUTER,
    statements.ROUTER,
    commission.ROUTER,
    *INQUIRY_ROUTES,
    lead_settings.ROUTER,
    integrations.ROUTER,
]
