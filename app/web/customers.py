"""The member's customers: ``/customers`` (My customers: search, filters by grade / status /
territory, sorted by next follow-up, a "returns to the pool in N days" badge per row, release with a
reason; ``?view=team`` is the managers' table, ``team_customers``), ``/customers/new`` (a new
customer, the 撞单 check live as the name or credit code is typed: ``/customers/duplicate-check``)
and ``POST /customers`` (enter it). The customer's own page is ``customer_page``.

The rules are the customer and pool services': an invisible or another tenant's customer is their
404 (the not-found page), a refused release or a duplicate their problem, shown inline."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app import rate_limits
from app.customers import access_requests, duplicates
from app.customers.pool import release_reasons
from app.customers.pool import service as pool
from app.customers.pool import status as pool_status
from app.customers.schemas import CustomerCreate
from app.customers.search import GRADES, STATUSES, list_customers
from app.customers.service import create_customer, get_customer
from app.errors import Conflict, ValidationFailed
from app.i18n import N_, translate
from app.web import list_rows, team_customers
from app.web.customer_page import KINDS, RESULTS, next_followup_at
from app.web.pages import error_text
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, page_size, render
from tenants.scope import TenantScope

__all__ = ["KINDS", "RESULTS", "ROUTER"]  # the follow-up words live with the customer's page now

PAGE_SIZE = 20
SORTS = ("next_followup", "newest")  # My customers: the next follow-up first, unless asked otherwise
_FILTERS = ("q", "grade", "status", "territory_id", "sort", "limit")


def _filters(request: Request[Any, Any, Any]) -> dict[str, str]:
    chosen = {k: v for k in _FILTERS if (v := request.query_params.get(k, "").strip())}
    if chosen.get("grade") not in GRADES:
        chosen.pop("grade", None)
    if chosen.get("status") not in STATUSES:
        chosen.pop("status", None)
    if chosen.get("sort") not in SORTS:
        chosen.pop("sort", None)
    if "territory_id" in chosen:
        try:
            UUID(chosen["territory_id"])
        except ValueError:
            chosen.pop("territory_id")
    return chosen


@get("/customers")
async def customers_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    if request.query_params.get("view") == "team" and tenant_scope.at_least("manager"):
        return await team_customers.page(request, tenant_scope)
    chosen = _filters(request)
    territory = chosen.get("territory_id")
    page = await list_customers(
        tenant_scope,
        owner="me",
        q=chosen.get("q"),
        grade=chosen.get("grade"),
        status=chosen.get("status"),
        territory_id=UUID(territory) if territory else None,
        sort=chosen.get("sort", "next_followup"),
        limit=page_size(request, PAGE_SIZE),
        cursor=request.query_params.get("cursor") or None,
    )
    reclaim = await pool_status.reclaim_days_left(tenant_scope, [c.id for c in page.items])
    context: dict[str, Any] = {
        "page": page,
        "team": False,
        "q": chosen.get("q", ""),
        "chosen": chosen,
        "days_left": reclaim.days,
        "warning_days": reclaim.warning_days,
        "more_query": urlencode(chosen) + "&" if chosen else "",
        "customer_rows": list_rows.customer_rows,
        "release_reasons": await release_reasons.list_release_reasons(tenant_scope),
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, tenant_scope, "app/_customer_items.html", **context)
    return await render(
        request,
        tenant_scope,
        "app/customers.html",
        with_picker=True,
        grades=GRADES,
        statuses=STATUSES,
        filtered=any(k not in ("sort", "limit") for k in chosen),
        **context,
    )


class ReleaseForm(msgspec.Struct):
    reason: str = ""  # a code from the tenant's list of release reasons
    note: str = ""
    pool_id: str = ""  # the pool it goes to (empty: its territory's)
    place: str = "list"  # where the button was: the list (the row goes) or the customer's page


@post("/customers/{customer_id:uuid}/release")
async def release(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    customer_id: FromPath[UUID],
    data: Annotated[ReleaseForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """The release confirmation's answer (htmx): the customer is back in its pool, or the refusal
    (no reason, not theirs, already in the pool) beside the button."""
    if len(data.note) > 1000:
        raise ValidationFailed.field("note", "Use at most {n} characters", n=1000)
    try:
        pool_id = UUID(data.pool_id) if data.pool_id else None
    except ValueError:
        raise ValidationFailed.field("pool_id", "No pool with this id") from None
    customer = await pool.release_customer(
        tenant_scope, customer_id, data.reason, pool_id=pool_id, note=data.note
    )
    return await render(
        request, tenant_scope, "app/_released.html", customer=customer, on_page=data.place == "page"
    )


@post("/customers/{customer_id:uuid}/lock")
async def lock(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
) -> Template:
    """Lock (锁定) or unlock the customer against auto-reclaim (htmx): the toggle again, or the refusal
    (the lock cap, not its owner) under it."""
    form = await request.form()
    locked = form.get("locked") == "1"
    try:
        customer = await pool.set_lock(tenant_scope, customer_id, locked)
    except Conflict as exc:
        current = await get_customer(tenant_scope, customer_id)
        return await render(
            request,
            tenant_scope,
            "app/_lock.html",
            status_code=409,
            customer=current,
            message=error_text(tenant_scope.locale, exc),
        )
    return await render(request, tenant_scope, "app/_lock.html", customer=customer)


# --- a new customer -----------------------------------------------------------------------------


class NewCustomerForm(msgspec.Struct):
    full_name: str = ""
    territory_id: str = ""
    short_name: str = ""
    tax_id: str = ""
    phone: str = ""
    address: str = ""
    industry: str = ""
    source: str = ""
    grade: str = "D"
    referrer: str = ""
    next_date: str = ""


_OPTIONAL_TEXT = ("short_name", "tax_id", "phone", "address", "industry", "referrer")
_LABELS = {  # the schema's field → its label on the form (a refusal names it)
    "full_name": N_("Full legal name"),
    "short_name": N_("Short name"),
    "tax_id": N_("Unified social credit code"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "industry": N_("Industry"),
    "source": N_("Source"),
    "grade": N_("Grade"),
    "referrer": N_("Referred by"),
}
_AT = re.compile(r"\$\.(\w+)")


def _new_customer(scope: TenantScope, form: NewCustomerForm) -> CustomerCreate:
    """The form as the API's body; the schema's own checks (lengths, grade, source) answer 422."""
    body: dict[str, Any] = {"full_name": form.full_name.strip(), "grade": form.grade or "D"}
    if form.territory_id.strip():  # else: placed by the credit code
        try:
            body["territory_id"] = str(UUID(form.territory_id))
        except ValueError:
            raise ValidationFailed.field("territory_id", "Choose a territory") from None
    for name in _OPTIONAL_TEXT:
        if value := getattr(form, name).strip():
            body[name] = value
    if form.source:
        body["source"] = form.source
    if form.next_date:
        body["next_followup_at"] = next_followup_at(scope, form.next_date)
    if not body["full_name"]:
        raise ValidationFailed.field("full_name", "Required")
    try:
        return msgspec.convert(body, CustomerCreate)
    except msgspec.ValidationError as exc:
        found = _AT.search(str(exc))
        field = found.group(1) if found else "full_name"
        label = translate(scope.locale, _LABELS.get(field, _LABELS["full_name"]))
        raise ValidationFailed.field(field, "Check this field: {label}", label=label) from None


@get("/customers/new")
async def new_customer_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    return await render(
        request,
        tenant_scope,
        "app/customer_new.html",
        with_picker=True,
        grades=GRADES,
        sources=pool.SOURCES,
    )


@get("/customers/duplicate-check", middleware=[rate_limits.bucket("lookup")])
async def duplicate_check(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    """The live 撞单 check (htmx, as the name or credit code is typed): who owns the match, if any."""
    full_name = request.query_params.get("full_name", "")[:200]
    tax_id = request.query_params.get("tax_id", "")[:40]
    found = await duplicates.check_duplicate(tenant_scope, full_name, tax_id)
    return await render(request, tenant_scope, "app/_duplicate_check.html", found=found)


@post("/customers")
async def create(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[NewCustomerForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any] | Template:
    """Enter the customer (the same service as the API): its page next, or the refusal inline — a
    duplicate names who owns it (and the managers hear of it, as from the API), and offers to ask for
    it across territories (跨区申请) when it is someone else's."""
    try:
        customer = await create_customer(tenant_scope, _new_customer(tenant_scope, data))
    except Conflict as exc:
        if not exc.extra.get("conflict_id"):
            raise
        worked = await access_requests.worked_territories(tenant_scope)
        if worked is None or UUID(exc.extra["existing"]["territory_id"]) in worked:
            raise  # theirs to claim (or a colleague's in their own territory): no request to make
        return await render(
            request,
            tenant_scope,
            "app/_duplicate_refused.html",
            status_code=409,
            message=error_text(tenant_scope.locale, exc),
            conflict_id=exc.extra["conflict_id"],
        )
    return Response("", status_code=200, headers={"HX-Redirect": f"/customers/{customer.id}"})


ROUTER = Router(
    path="/",
    route_handlers=[customers_page, release, lock, new_customer_page, duplicate_check, create],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
