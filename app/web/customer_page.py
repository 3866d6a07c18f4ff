"""A customer's page, ``/customers/{id}``: the header (grade, owner, territory, the pool countdown,
release), contacts with tap-to-call (add and edit in place), the follow-up timeline with the quick
log form, deals, documents and envelopes (links to their pages), the ownership history, the
referral (who referred it, set in place; whom it referred) and the grade (change with a reason,
its history). Each form posts with htmx to the API's address without ``/api/v1`` and answers a
fragment: a confirmation where the form is, the part it changed anew (out of band).

Everything is the services' (customers, contacts, follow-ups, pool, ownership, referrals, deals,
documents, envelopes): an invisible or another tenant's customer is their 404, the not-found page."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.customers import contacts, followups, masking, ownership
from app.customers.pool import pools, release_reasons
from app.customers.pool import status as pool_status
from app.customers.schemas import ContactCreate, ContactUpdate, CustomerRead, CustomerUpdate, FollowupCreate
from app.customers.search import GRADES, list_customers
from app.customers.service import get_customer, grade_history, update_customer
from app.deals.service import list_deals
from app.documents.kinds import KINDS as DOCUMENT_KINDS
from app.documents.service import list_documents
from app.errors import NotFound, ValidationFailed
from app.i18n import N_, translate
from app.sales.growth import referrals
from app.sales.growth.schemas import ReferralWrite
from app.signing.service import list_envelopes
from app.territories import divisions
from app.territories import service as territory_service
from app.web.deal_words import ROLES, STAGES, money
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.scope import TenantScope

LIST_SIZE = 20
KINDS = {
    "call": N_("Call"),
    "visit": N_("Visit"),
    "meeting": N_("Meeting"),
    "message": N_("Message"),
    "demo": N_("Demo"),
    "other": N_("Other"),
}
RESULTS = {
    "no_answer": N_("No answer"),
    "conversation": N_("Conversation"),
    "appointment": N_("Appointment"),
    "presentation": N_("Presentation"),
    "order": N_("Order"),
    "other": N_("Other"),
}
CAUSES = {
    "create": N_("Entered"),
    "assign": N_("Assigned"),
    "claim": N_("Claimed"),
    "release": N_("Released"),
    "reclaim": N_("Returned to the pool automatically"),
    "handover": N_("Handed over"),
    "import": N_("Imported"),
    "merge": N_("Merged with another record"),
}
OWNER_CHANGED = N_("Owner changed")  # a cause without words of its own
DOCUMENT_STATUSES = {
    "queued": N_("Being made"),
    "rendering": N_("Being made"),
    "ready": N_("Ready"),
    "failed": N_("Failed"),
}
ENVELOPE_STATUSES = {
    "draft": N_("Not sent"),
    "sent": N_("Out for signature"),
    "completed": N_("Signed by all"),
    "declined": N_("Declined"),
    "voided": N_("Voided"),
    "expired": N_("Expired"),
}
FOLLOWUP_HOUR = time(9)  # a next follow-up picked as a date is due at 09:00 in the tenant's time zone
_WORDS: dict[str, Any] = {
    "kinds": KINDS,
    "results": RESULTS,
    "roles": ROLES,
    "stages": STAGES,
    "causes": CAUSES,
    "owner_changed": OWNER_CHANGED,
    "document_statuses": DOCUMENT_STATUSES,
    "envelope_statuses": ENVELOPE_STATUSES,
    "money": money,
}


def next_followup_at(scope: TenantScope, value: str) -> datetime:
    """A date picked on a form as the next follow-up: 09:00 that day in the tenant's time zone."""
    try:
        day = datetime.fromisoformat(value).date()
    except ValueError:
        raise ValidationFailed.field("next_date", "Use an ISO 8601 date and time") from None
    return datetime.combine(day, FOLLOWUP_HOUR, ZoneInfo(scope.time_zone))


def _storage(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.storage


async def _referrer_name(scope: TenantScope, customer: CustomerRead) -> str | None:
    """The referring customer's name, if the member sees it (else the page shows no link)."""
    if customer.referrer_customer_id is None:
        return None
    try:
        return (await get_customer(scope, customer.referrer_customer_id)).full_name
    except NotFound:
        return None


async def _masked(scope: TenantScope, customer_id: UUID) -> list[str]:
    """The fields its pool shows this member masked until claimed."""
    async with scope.tx() as tx:
        return await masking.masked_fields(tx, scope, customer_id)


async def _code_territory(scope: TenantScope, customer: CustomerRead) -> str | None:
    """The name of the territory a cross-territory customer's credit code points to."""
    if not customer.cross_territory or customer.code_territory_id is None:
        return None
    return (await territory_service.get_territory(scope, customer.code_territory_id)).name


@get("/customers/{customer_id:uuid}")
async def customer_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
) -> Template:
    scope = tenant_scope
    customer = await get_customer(scope, customer_id)
    status = await pool_status.pool_status(scope, customer_id)
    documents = await list_documents(
        scope, _storage(request), subject_type="customer", subject_id=str(customer_id), limit=LIST_SIZE
    )
    return await render(
        request,
        scope,
        "app/customer.html",
        customer=customer,
        status=status,
        timeline=(await followups.list_followups(scope, customer_id, limit=50)).items,
        contacts=(await contacts.list_contacts(scope, customer_id, limit=100)).items,
        deals=await list_deals(scope, customer_id=customer_id, limit=LIST_SIZE),
        documents=documents,
        envelopes=await list_envelopes(scope, None, LIST_SIZE, None, customer_id=customer_id),
        owners=(await ownership.list_ownership(scope, customer_id, limit=100)).items,
        grades_history=await grade_history(scope, customer_id),
        referred=(await referrals.list_referrals(scope, referrer_customer_id=customer_id, limit=LIST_SIZE)),
        referrer_name=await _referrer_name(scope, customer),
        may_merge=scope.at_least("manager"),
        division=divisions.full_name(divisions.of_credit_code(customer.tax_id)),
        code_territory=await _code_territory(scope, customer),
        release_reasons=await release_reasons.list_release_reasons(scope),
        release_pools=await pools.release_targets(scope, customer.territory_id),
        masked=await _masked(scope, customer_id),
        grades=GRADES,
        document_title=lambda kind: _document_title(scope, kind),
        **_WORDS,
    )


def _document_title(scope: TenantScope, kind: str) -> str:
    """A document kind's name as printed on its cover, in the member's language."""
    known = DOCUMENT_KINDS.get(kind)
    if known is None:
        return translate(scope.locale, N_("Document"))
    return known.title.get(scope.locale) or known.title["en"]


# --- follow-ups -------------------------------------------------------------------------------------


class FollowupForm(msgspec.Struct):
    kind: str = "call"
    summary: str = ""
    result: str = ""
    next_date: str = ""


def _followup(scope: TenantScope, form: FollowupForm) -> FollowupCreate:
    """The form as the API's body: the schema's own checks (kind, result, lengths) answer 422."""
    body: dict[str, Any] = {"kind": form.kind, "summary": form.summary.strip()}
    if form.result:
        body["result"] = form.result
    if form.next_date:
        body["next_followup_at"] = next_followup_at(scope, form.next_date)
    try:
        return msgspec.convert(body, FollowupCreate)
    except msgspec.ValidationError:
        field = "summary" if not body["summary"] else "kind"
        raise ValidationFailed.field(
            field, "Write what happened" if field == "summary" else "Unknown kind"
        ) from None


@post("/customers/{customer_id:uuid}/followups")
async def log_followup(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    customer_id: FromPath[UUID],
    data: Annotated[FollowupForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """The quick log form's answer (htmx): a confirmation, and the timeline and countdown anew."""
    await followups.create_followup(tenant_scope, customer_id, _followup(tenant_scope, data))
    status = await pool_status.pool_status(tenant_scope, customer_id)
    return await render(
        request,
        tenant_scope,
        "app/_followup_logged.html",
        timeline=(await followups.list_followups(tenant_scope, customer_id, limit=50)).items,
        status=status,
        **_WORDS,
    )


# --- contacts --------------------------------------------------------------------------------------


class ContactForm(msgspec.Struct):
    name: str = ""
    title: str = ""
    phone: str = ""
    email: str = ""
    decision_role: str = "other"


_CONTACT_LABELS = {
    "name": N_("Name"),
    "title": N_("Job title"),
    "phone": N_("Phone"),
    "email": N_("Email"),
    "decision_role": N_("Role in the decision"),
}


def _contact_body(scope: TenantScope, form: ContactForm) -> dict[str, Any]:
    body: dict[str, Any] = {"name": form.name.strip(), "decision_role": form.decision_role or "other"}
    if not body["name"]:
        raise ValidationFailed.field("name", "Required")
    for field in ("title", "phone", "email"):
        body[field] = getattr(form, field).strip() or None
    for field, limit in (("name", 100), ("title", 100), ("phone", 40), ("email", 320)):
        if body[field] is not None and len(body[field]) > limit:
            label = translate(scope.locale, _CONTACT_LABELS[field])
            raise ValidationFailed.field(field, "Check this field: {label}", label=label)
    if body["decision_role"] not in ROLES:
        label = translate(scope.locale, _CONTACT_LABELS["decision_role"])
        raise ValidationFailed.field("decision_role", "Check this field: {label}", label=label)
    return body


async def _contacts_changed(
    request: Request[Any, Any, Any], scope: TenantScope, customer_id: UUID
) -> Template:
    return await render(
        request,
        scope,
        "app/_contacts_saved.html",
        customer_id=customer_id,
        contacts=(await contacts.list_contacts(scope, customer_id, limit=100)).items,
        roles=ROLES,
    )


@post("/customers/{customer_id:uuid}/contacts")
async def add_contact(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    customer_id: FromPath[UUID],
    data: Annotated[ContactForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    body = msgspec.convert(_contact_body(tenant_scope, data), ContactCreate)
    await contacts.create_contact(tenant_scope, customer_id, body)
    return await _contacts_changed(request, tenant_scope, customer_id)


@post("/customers/{customer_id:uuid}/contacts/{contact_id:uuid}")
async def edit_contact(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    customer_id: FromPath[UUID],
    contact_id: FromPath[UUID],
    data: Annotated[ContactForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    body = msgspec.convert(_contact_body(tenant_scope, data), ContactUpdate)
    await contacts.update_contact(tenant_scope, customer_id, contact_id, body)
    return await _contacts_changed(request, tenant_scope, customer_id)


# --- grade ------------------------------------------------------------------------------------------


class GradeForm(msgspec.Struct):
    grade: str = ""
    reason: str = ""


@post("/customers/{customer_id:uuid}/grade")
async def change_grade(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    customer_id: FromPath[UUID],
    data: Annotated[GradeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """A new grade with its reason (the page asks for one: the history says why), or the refusal."""
    if data.grade not in GRADES:
        raise ValidationFailed.field("grade", "Use A, B, C or D")
    reason = " ".join(data.reason.split())
    if not reason:
        raise ValidationFailed.field("grade_reason", "Say why the grade changes")
    if len(reason) > 1000:
        raise ValidationFailed.field("grade_reason", "Use at most {n} characters", n=1000)
    current = await get_customer(tenant_scope, customer_id)
    if current.grade == data.grade:
        raise ValidationFailed.field("grade", "The customer already has this grade")
    customer = await update_customer(
        tenant_scope,
        customer_id,
        CustomerUpdate(grade=data.grade, grade_reason=reason),  # type: ignore[arg-type]
    )
    status = await pool_status.pool_status(tenant_scope, customer_id)
    return await render(
        request,
        tenant_scope,
        "app/_grade_changed.html",
        customer=customer,
        status=status,
        grades_history=await grade_history(tenant_scope, customer_id),
    )


# --- referral ---------------------------------------------------------------------------------------


class ReferralForm(msgspec.Struct):
    referrer_customer_id: str = ""
    referrer_name: str = ""
    referrer_contact: str = ""


@get("/customers/{customer_id:uuid}/referrer-options")
async def referrer_options(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
) -> Template:
    """Customers matching what is typed, to pick the one who referred this one (htmx)."""
    await get_customer(tenant_scope, customer_id)  # 404 for a customer the member does not see
    q = request.query_params.get("referrer_q", "").strip()[:200]
    found = (await list_customers(tenant_scope, q=q, limit=10)).items if q else []
    return await render(
        request,
        tenant_scope,
        "app/_referrer_options.html",
        options=[c for c in found if c.id != customer_id],
        q=q,
    )


@post("/customers/{customer_id:uuid}/referral")
async def set_referral(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    customer_id: FromPath[UUID],
    data: Annotated[ReferralForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """Record who referred the customer (a customer picked, or a person by name), the referral
    service's rules deciding (not itself, not one it referred, not once rewarded)."""
    referrer_id: UUID | None = None
    if data.referrer_customer_id:
        try:
            referrer_id = UUID(data.referrer_customer_id)
        except ValueError:
            raise ValidationFailed.field("referrer_customer_id", "No customer with this id") from None
    name, contact = data.referrer_name.strip(), data.referrer_contact.strip()
    if len(name) > 200 or len(contact) > 200:
        raise ValidationFailed.field("referrer_name", "Use at most {n} characters", n=200)
    if referrer_id is None and not name and not contact:
        raise ValidationFailed.field("referrer_name", "Pick a customer or write who referred it")
    await referrals.set_referral(
        tenant_scope,
        customer_id,
        ReferralWrite(
            referrer_customer_id=referrer_id, referrer_name=name or None, referrer_contact=contact or None
        ),
    )
    customer = await get_customer(tenant_scope, customer_id)
    return await render(
        request,
        tenant_scope,
        "app/_referral_saved.html",
        customer=customer,
        referrer_name=await _referrer_name(tenant_scope, customer),
    )


ROUTER = Router(
    path="/",
    route_handlers=[
        customer_page,
        log_followup,
        add_contact,
        edit_contact,
        change_grade,
        referrer_options,
        set_referral,
    ],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
