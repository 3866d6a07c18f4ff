"""Team customers (``/customers?view=team``, managers and up): every customer the member sees, as a
table filtered like the API's list (territory subtree, owner, grade, status, name/phone/credit code)
and sorted like it (newest first, or the soonest next follow-up first),
with a selection that spans pages — rows ticked one by one (kept while "more" appends rows), or
"all N matching": a selection *by the filter*, not by ids — and its bulk actions: hand over (the
wizard, ``/handovers/new``, with the selection), release to the pool with a reason, export of the
current filter (the export service). Reached through ``customers.customers_page``.

The visibility is the customer services' (``list_customers``, ``list_conditions`` for the count);
releasing is ``release_customer`` per ticked customer — "all matching" goes through a pool-mode
handover plan instead (one set-based step, previewed first, undoable for 24 hours)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.response import Stream, Template
from markupsafe import Markup, escape

from app.customers.export import ExportFilters, export_customers
from app.customers.imports import columns
from app.customers.pool import release_reasons
from app.customers.pool.service import SOURCES, release_customer
from app.customers.search import SORTS, check_filters, list_conditions, list_customers
from app.errors import AppError, ValidationFailed
from app.handover.plan import draft_plan
from app.handover.schemas import HandoverCreate, HandoverSelection
from app.i18n import N_
from app.sql import Params
from app.territories import tree
from app.territories.service import list_territories
from app.web.pages import error_text
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.access import managed_territory_ids
from tenants.members import list_members
from tenants.scope import TenantScope

PAGE_SIZE = 50
FILTERS = ("territory_id", "owner", "grade", "status", "source", "followup", "q", "cross")
FOLLOWUP_DAYS = (7, 14, 30, 60, 90)  # "not followed up for N days" (never followed up included)
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # followed up before this: never
STATUSES = ("prospect", "won", "lost", "closed")
BULK_LIMIT = 200  # ticked rows released one by one; beyond, "all matching" (a plan) is the way
RESOLVE_LIMIT = 10_000  # a filter the plan cannot express (a search) is resolved to at most this many ids
ARCHIVED = N_("Archived customers cannot be handed over or released")


def read_filters(params: Any) -> dict[str, str]:
    """The chosen filters (only those set), as the query gives them."""
    return {k: v for k in FILTERS if (v := (params.get(k) or "").strip())}


def _kwargs(chosen: dict[str, str]) -> dict[str, Any]:
    """The filters as the customer services take them; 422 naming a malformed one."""
    territory = chosen.get("territory_id")
    try:
        territory_id = UUID(territory) if territory else None
    except ValueError:
        raise ValidationFailed.field("territory_id", "Unknown territory") from None
    check_filters(grade=chosen.get("grade"), status=chosen.get("status"))
    source = chosen.get("source")
    if source is not None and source not in SOURCES:
        raise ValidationFailed.field("source", "Unknown source")
    followup = chosen.get("followup")
    before = None
    if followup == "never":
        before = NEVER
    elif followup:
        if not followup.isdigit() or int(followup) not in FOLLOWUP_DAYS:
            raise ValidationFailed.field("followup", "Unknown period")
        before = datetime.now(UTC) - timedelta(days=int(followup))
    return {
        "territory_id": territory_id,
        "grade": chosen.get("grade"),
        "status": chosen.get("status"),
        "owner": chosen.get("owner"),
        "q": chosen.get("q"),
        "source": source,
        "followup_before": before,
        "cross_territory": True if chosen.get("cross") else None,
    }


async def matching_count(scope: TenantScope, chosen: dict[str, str]) -> int:
    """How many customers the filter matches (the list's own conditions, visibility included)."""
    p = Params(scope.tenant_id)
    async with scope.tx() as tx:
        where = await list_conditions(tx, scope, p, **_kwargs(chosen))
        count: int = await tx.fetchval(
            "SELECT count(*) FROM customers c WHERE " + " AND ".join(where), *p.values
        )
    return count


async def _all_ids(scope: TenantScope, chosen: dict[str, str]) -> list[UUID]:
    ids: list[UUID] = []
    cursor: str | None = None
    while True:
        found = await list_customers(scope, **_kwargs(chosen), limit=200, cursor=cursor)
        ids.extend(c.id for c in found.items)
        if len(ids) > RESOLVE_LIMIT:
            raise ValidationFailed.field(
                "selection", "Narrow the filter: at most {max} customers at once", max=RESOLVE_LIMIT
            )
        if not found.next_cursor:
            return ids
        cursor = found.next_cursor


async def selection_for(
    scope: TenantScope, chosen: dict[str, str], ids: list[str], *, everything: bool
) -> HandoverSelection:
    """What the table's selection means for a handover: the ticked ids, or (``everything``) the
    filter itself — territory subtree, owner (or the pool), grade, status; without a territory the
    territories the member manages (owner/admin: the whole tree). A name search, a source or a last
    follow-up cannot be a plan's criterion: their matches are resolved to ids."""
    if not everything:
        try:
            return HandoverSelection(customer_ids=list(dict.fromkeys(UUID(i) for i in ids)))
        except ValueError:
            raise ValidationFailed.field("customer_id", "no customer with this id") from None
    kwargs = _kwargs(chosen)
    if kwargs["status"] == "closed":
        raise ValidationFailed.field("status", ARCHIVED)
    if kwargs["q"] or kwargs["source"] or kwargs["followup_before"] or kwargs["cross_territory"]:
        return HandoverSelection(customer_ids=await _all_ids(scope, chosen))
    sel = HandoverSelection(
        grades=[kwargs["grade"]] if kwargs["grade"] else [],
        statuses=[kwargs["status"]] if kwargs["status"] else [],
    )
    owner = kwargs["owner"]
    if owner == "none":
        sel.pool = True
    elif owner:
        try:
            sel.owner_ids = [scope.membership_id if owner == "me" else UUID(owner)]  # type: ignore[list-item]
        except ValueError:
            raise ValidationFailed.field("owner", "Use a member id, me or none") from None
    if kwargs["territory_id"]:
        sel.territory_ids = [kwargs["territory_id"]]
    elif not sel.owner_ids and not sel.pool:
        if scope.at_least("admin"):  # the whole tree: its top level, with the subtrees
            sel.territory_ids = [t.id for t in (await list_territories(scope, top_level=True)).items]
        else:
            async with scope.tx() as tx:
                sel.territory_ids = await managed_territory_ids(tx, scope)
    return sel


async def team_members(scope: TenantScope) -> list[Any]:
    """Active reps and managers: owners to filter by, receivers to choose."""
    found = await list_members(scope, active=True, limit=200)
    return [m for m in found.items if m.role in ("rep", "manager")]


_PICKERS = (  # the tree in its order (as list_territories), then active reps and managers (as team_members)
    "(SELECT 't' AS kind, id, name AS words, path FROM territories WHERE tenant = $1 ORDER BY path LIMIT 200)"
    " UNION ALL (SELECT 'm', m.id, coalesce(nullif(u.name, ''), u.email), NULL FROM memberships m"
    " JOIN users u ON u.id = m.user_id WHERE m.tenant = $1 AND m.active AND m.role IN ('rep', 'manager')"
    " ORDER BY m.created_at, m.id LIMIT 200)"
)


async def pickers(scope: TenantScope) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The filter's choices, (value, words), in one round trip: territories (indented by depth) and
    owners. Every member of the tenant may list both (the services' rule), so no access check."""
    async with scope.tx() as tx:
        rows = await tx.fetch(_PICKERS, scope.tenant_id)
    territories = [(str(r["id"]), "· " * tree.depth(r["path"]) + r["words"]) for r in rows if r["path"]]
    owners = [(str(r["id"]), r["words"]) for r in rows if r["kind"] == "m"]
    return territories, owners


def options(choices: Iterable[tuple[str, str]], selected: str | None) -> Markup:
    """``<option>`` elements of (value, words), ``selected`` marked: the pickers of a few hundred
    members and territories, escaped here in one pass instead of a template loop of filters."""
    html = "".join(
        f'<option value="{escape(value)}"{" selected" if value == selected else ""}>{escape(words)}</option>'
        for value, words in choices
    )
    return Markup(html)  # noqa: S704 - every value and word is escaped above


def _words(locale: str) -> dict[str, dict[str | None, str]]:
    """The status and source words of the rows, looked up once a page (a row reads them by code)."""
    return {
        "status_words": {s: columns.label("status", s, locale) or s for s in STATUSES},
        "source_words": {None: "—", **{s: columns.label("source", s, locale) or s for s in SOURCES}},
    }


async def page(request: Request[Any, Any, Any], scope: TenantScope) -> Template:
    chosen = read_filters(request.query_params)
    sort = request.query_params.get("sort") or "newest"
    if sort not in SORTS:  # a page answers an unknown order with the default one
        sort = "newest"
    found = await list_customers(
        scope,
        **_kwargs(chosen),
        sort=sort,
        limit=PAGE_SIZE,
        cursor=request.query_params.get("cursor") or None,
    )
    query = urlencode({"view": "team", **chosen, "sort": sort})
    context: dict[str, Any] = {
        "page": found,
        "chosen": chosen,
        "sort": sort,
        "query": query,
        **_words(scope.locale),
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, scope, "app/_team_rows.html", **context)
    territories, owners = await pickers(scope)
    context["release_reasons"] = await release_reasons.list_release_reasons(scope)
    return await render(
        request,
        scope,
        "app/team_customers.html",
        territory_options=options(territories, chosen.get("territory_id")),
        owner_options=options(owners, chosen.get("owner")),
        statuses=STATUSES,
        sources=SOURCES,
        followup_days=FOLLOWUP_DAYS,
        export_query=urlencode(chosen),
        **context,
    )


@get("/customers/team/count")
async def count_page(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    """How many the filter matches (loaded after the table, so counting a large subtree does not
    hold the page back): the "select all N matching" choice."""
    count = await matching_count(tenant_scope, read_filters(request.query_params))
    return await render(request, tenant_scope, "app/_team_count.html", count=count)


@post("/customers/team/release")
async def release(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Response[Any]:
    """Release the ticked customers to the pool, each with the reason (the pool service, one by one;
    the refused ones listed with why). "All matching" becomes a pool-mode handover plan, previewed."""
    form = await request.form()
    reason = (form.get("reason") or "").strip()
    note = (form.get("note") or "").strip()[:1000]
    async with tenant_scope.tx() as tx:
        label = await release_reasons.label_of(tx, tenant_scope, reason)
    chosen = read_filters(form)
    ids = form.getall("customer_id", [])
    if form.get("all") == "1":
        sel = await selection_for(tenant_scope, chosen, ids, everything=True)
        text = f"{label}: {note}" if note else label
        plan_id = await draft_plan(tenant_scope, HandoverCreate(reason=text, selection=sel, mode="pool"))
        return Response("", status_code=200, headers={"HX-Redirect": f"/handovers/{plan_id}"})
    if not ids:
        raise ValidationFailed.field("customer_id", "Tick the customers first")
    if len(ids) > BULK_LIMIT:
        raise ValidationFailed.field(
            "customer_id", "At most {max} at once; choose all matching instead", max=BULK_LIMIT
        )
    released, refused = [], []
    for customer_id in (await selection_for(tenant_scope, chosen, ids, everything=False)).customer_ids:
        try:
            released.append(await release_customer(tenant_scope, customer_id, reason, note=note))
        except AppError as exc:
            refused.append({"id": customer_id, "message": error_text(tenant_scope.locale, exc)})
    return await render(request, tenant_scope, "app/_team_released.html", released=released, refused=refused)


@get("/customers/team/export")
async def export(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Response[Any]:
    """The current filter as a file (the export service: CSV streamed, XLSX whole)."""
    kwargs = _kwargs(read_filters(request.query_params))
    result = await export_customers(
        tenant_scope, request.query_params.get("format") or "csv", ExportFilters(**kwargs)
    )
    headers = {"Content-Disposition": result.disposition}
    if isinstance(result.body, bytes):
        return Response(result.body, media_type=result.content_type, headers=headers)
    return Stream(result.body, media_type=result.content_type, headers=headers)


ROUTER = Router(
    path="/",
    route_handlers=[count_page, release, export],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
