"""The web pages that mail links to, and their addresses: every link in a mail is made here.

``url(page, **params)`` gives the page's absolute address, or ``None`` while the app does not serve
that page — the API has no page for a deal, a customer or a report until the web app has one; the
mail then says where to look instead of linking to a 404. ``SERVED`` lists the pages served today: a
test fails when it differs from the app's routes (so a page, once served, gets its links back), and
another renders every mail template and requests every link in it against the running app.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from app.settings import get_settings

HOME = "/"
SIGN = "/sign/{token}"
VERIFY = "/verify"
INVITATION = "/invite/{token}"
PASSWORD_RESET = "/reset-password/{token}"  # noqa: S105 - a page address, not a password
DEAL = "/deals/{deal_id}"
CUSTOMER = "/customers/{customer_id}"
CUSTOMERS = "/customers"
COLLECTIONS = "/collections"
MARKET_INCIDENT = "/market-incidents/{incident_id}"
WEEKLY_REPORT = "/weekly-reports/{report_id}"
INQUIRY = "/f/{company}/{form}"  # a company's public inquiry form (the address its owners hand out)
INQUIRY_EMBED = "/f/{company}/{form}/embed"  # the same form for an <iframe> on the company's site
CALENDAR_FEED = "/calendar/{feed}"  # feed: the secret token and ".ics"
STATEMENTS = "/statements"  # a member's ownership statements

PAGES = frozenset(
    {
        HOME,
        SIGN,
        VERIFY,
        INVITATION,
        PASSWORD_RESET,
        DEAL,
        CUSTOMER,
        CUSTOMERS,
        COLLECTIONS,
        MARKET_INCIDENT,
        WEEKLY_REPORT,
        INQUIRY,
        INQUIRY_EMBED,
        CALENDAR_FEED,
        STATEMENTS,
    }
)
SERVED = frozenset(
    {HOME, SIGN, VERIFY, INVITATION, PASSWORD_RESET, DEAL, CUSTOMER, CUSTOMERS, MARKET_INCIDENT, INQUIRY}
    | {INQUIRY_EMBED, CALENDAR_FEED, STATEMENTS}
)


def url(page: str, query: dict[str, str] | None = None, **params: object) -> str | None:
    """The absolute URL of ``page`` (one of ``PAGES``) with its ``{placeholders}`` filled in (each value
    quoted as one path segment) and ``query`` appended; ``None`` while the page is not served.
    ``KeyError`` for a placeholder left unfilled, ``ValueError`` for a page not in ``PAGES``."""
    if page not in PAGES:
        raise ValueError(f"not a page mail links to: {page!r}")
    if page not in SERVED:
        return None
    path = page.format(**{name: quote(str(value), safe="") for name, value in params.items()})
    return f"{get_settings().public_url}{path}" + (f"?{urlencode(query)}" if query else "")
