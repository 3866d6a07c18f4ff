"""The plumbing every signed-in page shares: the session's ``TenantScope`` (the API's own dependency),
the app shell's context (navigation fitted to the role, unread notifications, billing banner, CSRF
token for htmx), and the answers to a service's problem — inline for an htmx request, a page otherwise.

A page handler declares ``dependencies=PAGE`` (or sits on a router that does), takes
``tenant_scope``, calls the service functions the API calls, and returns ``render(...)``. It never
decides who may do what: the services do, under the same scope and RLS.

Sharp edges: a page without a session answers 303 to ``/login?next=…`` (an htmx request gets
``HX-Redirect`` instead, so the whole page moves); cookie sessions must send ``X-CSRF-Token`` on
unsafe requests — the layout puts it in ``hx-headers``, so only htmx requests (``hx-post``…) carry it
and a plain HTML form posting to a page is refused with 403, as in the API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotFoundException
from litestar.response import Redirect, Template
from markupsafe import Markup

from app import i18n
from app.customers.imports import columns
from app.customers.pool import service as pool
from app.customers.pool.schemas import ClaimCounter
from app.errors import AppError, NotAuthenticated
from app.notifications.service import unread_sql
from app.sql import Params
from app.territories.schemas import TerritoryOption
from app.territories.service import picker_options, picker_sql
from app.web import list_rows
from app.web.checklist import complete_sql
from app.web.pages import error_text, page_context
from tenants.scope import CSRF_COOKIE, TenantScope, provide_tenant_scope


@dataclass(frozen=True, slots=True)
class NavItem:
    path: str
    label: str  # a message id, translated when shown
    minimum: str = "rep"  # the lowest role that sees it (``TenantScope.at_least``)
    query: str = ""


ONBOARDING = "/onboarding"

# The app's navigation, in order. A page part 2 or 3 adds appends its entry here.
NAV = (
    NavItem("/", i18n.N_("Today")),
    NavItem("/tasks", i18n.N_("Tasks")),
    NavItem("/pool", i18n.N_("Pool")),
    NavItem("/customers", i18n.N_("My customers")),
    NavItem("/customers", i18n.N_("Team customers"), minimum="manager", query="view=team"),
    NavItem("/visit-plans", i18n.N_("Field")),
    NavItem("/documents", i18n.N_("Documents")),
    NavItem("/envelopes", i18n.N_("Signatures")),
    NavItem("/handovers", i18n.N_("Handovers"), minimum="manager"),
    NavItem("/customer-conflicts", i18n.N_("Duplicate claims"), minimum="manager"),
    NavItem("/approvals", i18n.N_("Approvals"), minimum="manager"),
    NavItem("/territories", i18n.N_("Territories"), minimum="manager"),
    NavItem("/customers/import", i18n.N_("Import"), minimum="manager"),
    NavItem("/deals", i18n.N_("Deals")),
    NavItem("/registrations", i18n.N_("Vendor registrations"), minimum="manager"),
    NavItem(ONBOARDING, i18n.N_("Get started"), minimum="admin"),
    NavItem("/members", i18n.N_("Members"), minimum="admin"),
    NavItem("/billing", i18n.N_("Billing"), minimum="admin"),
    NavItem("/settings", i18n.N_("Settings"), minimum="admin"),
    NavItem("/team", i18n.N_("Team dashboard"), minimum="manager"),
    NavItem("/statements", i18n.N_("Statements")),
)


def nav_for(scope: TenantScope) -> list[NavItem]:
    return [item for item in NAV if scope.at_least(item.minimum)]


# The navigation in sections by the role an entry needs: the member's own work first (always shown),
# then the manager's desk and the company's setup (on a phone behind the "Menu" button, so the strip
# of a rep's day stays short).
SECTIONS = (("", ("rep",)), (i18n.N_("Team"), ("manager",)), (i18n.N_("Company"), ("admin", "owner")))


def nav_sections(items: list[NavItem]) -> list[tuple[str, list[NavItem]]]:
    sections = [(title, [i for i in items if i.minimum in minimums]) for title, minimums in SECTIONS]
    return [(title, group) for title, group in sections if group]


def request_locale(request: Request[Any, Any, Any]) -> str:
    """The language of the answer: the member's (set by the scope dependency), else the browser's."""
    locale = request.scope.get("state", {}).get("locale")
    return str(locale) if locale else i18n.negotiate(request.headers.get("accept-language"))


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


@dataclass(frozen=True, slots=True)
class ShellReads:
    """The shell's small reads of one page, fetched in one round trip (``shell_reads``)."""

    unread: int
    onboarded: bool = False  # every onboarding step is done ("Get started" leaves the navigation)
    territories: list[TerritoryOption] | None = None
    counter: ClaimCounter | None = None


async def shell_reads(scope: TenantScope, *, territories: bool = False, counter: bool = False) -> ShellReads:
    """The unread count, for an owner or admin whether onboarding is complete, and what the page asks
    for besides (the territory picker, the claim counter), as one ``SELECT`` of the services' own
    subqueries: one round trip, not five."""
    p = Params(scope.tenant_id)
    me = scope.membership_id
    columns = [(unread_sql(p, me) if me is not None else "0") + " AS unread"]
    admin = scope.at_least("admin")  # only they see "Get started"
    if admin:
        columns.append(complete_sql() + " AS onboarded")
    if territories:
        columns.append(picker_sql(p) + " AS territories")
    counted = counter and me is not None
    if counted:
        columns.append(pool.counter_sql(p, scope))
    async with scope.tx() as tx:
        row = await tx.fetchrow("SELECT " + ", ".join(columns), *p.values)
    assert row is not None
    return ShellReads(
        unread=int(row["unread"]),
        onboarded=bool(row["onboarded"]) if admin else False,
        territories=picker_options(row["territories"]) if territories else None,
        counter=pool.counter_of(row) if counted else None,
    )


# The navigation's HTML (the side bar and the phone's menu) by language, role and current entry: the
# same few strings for every page, rendered once per process instead of once per page.
_NAV_HTML: dict[tuple[str, str, bool, int], tuple[Markup, Markup]] = {}


def _nav_html(request: Request[Any, Any, Any], scope: TenantScope, onboarded: bool) -> tuple[Markup, Markup]:
    items = nav_for(scope)
    if onboarded:  # "Get started" is done: off the menu, still at its URL
        items = [n for n in items if n.path != ONBOARDING]
    path, query = request.url.path, request.url.query
    current = next(
        (i for i in reversed(range(len(items))) if items[i].path == path and items[i].query in ("", query)),
        -1,
    )
    key = (scope.locale, scope.role, onboarded, current)
    engine = request.app.template_engine
    assert engine is not None
    cached = None if engine.engine.auto_reload else _NAV_HTML.get(key)  # development: edits show
    if cached is None:
        module = engine.engine.get_template("app/_nav.html").make_module(
            page_context(
                scope.locale,
                nav_sections=nav_sections(items),
                current=items[current] if current >= 0 else None,
            )
        )
        # the macros' output is the template's, escaped as it was rendered
        cached = _NAV_HTML[key] = (Markup(module.side()), Markup(module.menu()))  # noqa: S704
    return cached


async def render(
    request: Request[Any, Any, Any],
    scope: TenantScope,
    template: str,
    status_code: int = 200,
    *,
    with_picker: bool = False,
    with_counter: bool = False,
    **context: Any,
) -> Template:
    """``template`` in the app shell, in the member's language. A template whose name starts with
    ``_`` is a fragment (an htmx answer): it gets no shell, and no shell queries run.

    ``with_picker``: the page gets ``territories`` (the territory picker, ``TerritoryOption``s, and
    ``territory_options(territories, chosen_id)``, their ``<option>``s);
    ``with_counter``: ``counter`` (the claim counter) — both read in the shell's one round trip. A
    page's template can render a list's rows with ``fragment("app/_x_items.html")`` (the template
    an htmx "more" answers with): rendered on its own, its many small pieces are joined once instead
    of passing through every enclosing block."""
    shell: dict[str, Any] = {}
    if not template.rsplit("/", 1)[-1].startswith("_"):
        reads = await shell_reads(scope, territories=with_picker, counter=with_counter)
        side, menu = _nav_html(request, scope, reads.onboarded)
        shell = {
            "nav_side": side,
            "nav_menu": menu,
            "unread": reads.unread,
            "warnings": scope.billing_warnings(),
            "hx_headers": json.dumps({"X-CSRF-Token": request.cookies.get(CSRF_COOKIE, "")}),
        }
        if with_picker:
            context.setdefault("territories", reads.territories)
            context.setdefault("territory_options", list_rows.territory_options)
        if with_counter:
            context.setdefault("counter", reads.counter)

    locale = scope.locale

    def label(kind: str, code: str | None) -> str | None:  # a source / status code's words
        return columns.label(kind, code, locale)

    page = page_context(locale, scope=scope, label=label, **shell, **context)

    def fragment(name: str) -> Markup:
        engine = request.app.template_engine
        assert engine is not None
        return Markup(engine.engine.get_template(name).render(page))  # noqa: S704 (rendered: escaped)

    page["fragment"] = fragment
    return Template(template_name=template, context=page, status_code=status_code)


def page_size(request: Request[Any, Any, Any], default: int = 20) -> int:
    """Rows per page: ``?limit=`` (1–100, as the API allows), else ``default``."""
    raw = request.query_params.get("limit", "")
    return min(int(raw), 100) if raw.isdigit() and int(raw) > 0 else default


def login_url(request: Request[Any, Any, Any]) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="")


def safe_next(target: str | None) -> str:
    """A ``next`` address we may redirect to: a path on this site, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _problem_page(request: Request[Any, Any, Any], status: int, message: str) -> Response[Any]:
    locale = request_locale(request)
    engine = request.app.template_engine
    assert engine is not None
    name = "app/_error.html" if is_htmx(request) else "app/error.html"
    body = engine.get_template(name).render(**page_context(locale, status=status, message=message))
    return Response(body, status_code=status, media_type="text/html")


def app_error_page(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    """A service's problem on a page: sign in again (401), else its message in the member's language
    — the fragment for htmx (shown where the action's answer goes), the error page otherwise (404 is
    the not-found page, another tenant's id included)."""
    if isinstance(exc, NotAuthenticated):
        if is_htmx(request):
            return Response("", status_code=401, headers={"HX-Redirect": login_url(request)})
        return Redirect(login_url(request), status_code=303)
    response = _problem_page(request, exc.status, error_text(request_locale(request), exc))
    response.headers.update(exc.headers)
    return response


def http_error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own errors under a page: a bad form (400/422) or an unknown address."""
    locale = request_locale(request)
    if isinstance(exc, NotFoundException):
        return _problem_page(request, 404, i18n.translate(locale, "Not found"))
    status = exc.status_code if 400 <= exc.status_code < 500 else 500
    return _problem_page(request, status, i18n.translate(locale, "The request has invalid fields"))


OWN_TRANSACTIONS = "own_transactions"


async def provide_page_scope(request: Request[Any, Any, Any]) -> AsyncIterator[TenantScope]:
    """The API's session dependency, and for a page read (``GET``) one scope around all of it: the
    page's own reads and the shell's (unread count, navigation) join it and share its memo. On the
    request's read-scoped connection that is no transaction at all (``app.db``: reads in fewer round
    trips): a page costs the session lookup plus its queries, no ``BEGIN … COMMIT``.
    Writes keep the services' own transactions (a refused step must not poison the next one), and so
    does a read that waits on something slow besides the database (``opt={OWN_TRANSACTIONS: True}``: a
    page image drawn by poppler), so that it holds no transaction open while it waits."""
    async for scope in provide_tenant_scope(request):
        if request.method == "GET" and not request.route_handler.opt.get(OWN_TRANSACTIONS):
            async with scope.tx() as tx:
                tx.read_memo = {}  # a read: what its services look up twice is read once
                yield scope
        else:
            yield scope


PAGE = {"tenant_scope": Provide(provide_page_scope)}
PAGE_ERRORS: dict[Any, Any] = {AppError: app_error_page, HTTPException: http_error_page}
