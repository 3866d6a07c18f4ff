"""A deal (``/deals/{id}``): the stage stepper with its history and the move menu (what each move
would meet, from ``stage_moves.move_choices``), the key information and the decision people (edited
through ``PATCH /deals/{id}``, the API's ``update_deal``), the quote rounds and builder
(``app.web.quotes``), the contract terms and payment milestones (``PUT …/contract-terms``,
``PUT …/milestones``), the collections with their payments (``POST /collections/{id}/paid``), and the
deal's documents with a link to generate one.

Every read and write is the deal services'; an invisible or another tenant's deal is their 404 (the
not-found page). A refusal — milestones not adding up to the total, a payment above what is
outstanding, terms after collections started — is the service's problem shown beside the form; a
saved change reloads the page, since one part moves the others (terms → milestones → collections)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, patch, post, put
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.customers.contacts import list_contacts
from app.deals import products, quotes, service, stage_moves
from app.deals.aftersales import service as aftersales
from app.deals.collections import contracts, items, payments, terms
from app.deals.collections.schemas import CollectionPaid, ContractTermsWrite, MilestonesWrite
from app.deals.registrations import service as registrations
from app.deals.schemas import DealUpdate, QuoteRead
from app.documents.service import list_documents
from app.i18n import N_
from app.signing.schemas import EnvelopeRead
from app.signing.service import get_envelope
from app.web import quote_builder
from app.web.deal_board import member_names
from app.web.deal_words import convert, form_value, words
from app.web.registrations import words as registration_words
from app.web.shell import render
from tenants.scope import TenantScope

MAX_PEOPLE = 30
MAX_MILESTONES = 12
DOCUMENT_KINDS = {
    "contract": N_("Contract"),
    "quote": N_("Quote"),
    "proposal": N_("Proposal"),
    "acceptance": N_("Acceptance note"),
}
DOCUMENT = N_("Document")


def _reload() -> Response[Any]:
    return Response("", status_code=200, headers={"HX-Refresh": "true"})


async def deal_context(request: Request[Any, Any, Any], scope: TenantScope, deal_id: UUID) -> dict[str, Any]:
    """Everything the deal page shows, read through the services the API routes call."""
    deal = await service.get_deal(scope, deal_id)
    rounds: list[QuoteRead] = await quotes.list_quotes(scope, deal_id)
    collections = await items.list_deal_collections(scope, deal_id)
    paid = {c.id: await payments.list_payments(scope, c.id) for c in collections if c.paid_amount}
    open_deal = deal.stage not in ("won", "lost")
    price_list = (
        (await products.list_products(scope, active=True, limit=200)).items
        if open_deal and len(rounds) < quotes.MAX_ROUNDS
        else []
    )
    documents = await list_documents(
        scope, request.app.state.storage, subject_type="deal", subject_id=str(deal_id), limit=20
    )
    return {
        "signed": await _signed_envelope(request, scope, deal_id) if collections else None,
        "deal": deal,
        "history": await service.stage_history(scope, deal_id),
        "choices": await stage_moves.move_choices(scope, deal_id),
        "rounds": rounds,
        "builder": quote_builder.builder(deal, rounds, price_list) if price_list else None,
        "terms": await terms.get_terms(scope, deal_id),
        "collections": collections,
        "payments": paid,
        "contacts": (await list_contacts(scope, deal.customer_id, limit=100)).items,
        "names": await member_names(scope),
        "documents": documents.items,
        "document_kinds": DOCUMENT_KINDS,
        "open_deal": open_deal,
        "registration": await registrations.get_registration(scope, deal_id),
        "service_period": await aftersales.get_period(scope, deal_id),
        **registration_words(),
        "influence_levels": range(5, 0, -1),
        "support_levels": range(1, 6),
        **words(),
    }


async def _signed_envelope(
    request: Request[Any, Any, Any], scope: TenantScope, deal_id: UUID
) -> EnvelopeRead | None:
    """The envelope that signed the deal's contract (with its sealed PDF's link), once collections
    have started; none for a deal moved to signed by hand."""
    signed = next((c for c in await contracts.list_contracts(scope, deal_id) if c.status == "signed"), None)
    if signed is None or signed.envelope_id is None:
        return None
    return await get_envelope(scope, request.app.state.storage, signed.envelope_id)


@get("/deals/{deal_id:uuid}")
async def deal_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Template:
    context = await deal_context(request, tenant_scope, deal_id)
    return await render(request, tenant_scope, "app/deal.html", **context)


def _lines(form: FormMultiDict, name: str) -> list[str]:
    return [v.strip() for v in form_value(form, name).replace("，", ",").split(",") if v.strip()]


def _people(form: FormMultiDict) -> list[dict[str, Any]]:
    people = []
    for i in range(MAX_PEOPLE):
        contact = form_value(form, f"people-{i}-contact_id")
        if not contact:
            continue
        person: dict[str, Any] = {
            "contact_id": contact,
            "role": form_value(form, f"people-{i}-role") or "other",
        }
        for score in ("influence", "support"):
            if value := form_value(form, f"people-{i}-{score}"):
                person[score] = value
        people.append(person)
    return people


@patch("/deals/{deal_id:uuid}")
async def update_deal(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Template | Response[Any]:
    """``part=info``: the deal's figures and key information (answers "Saved." in place);
    ``part=people``: the decision people (the page reloads: the map changes)."""
    form = await request.form()
    body: dict[str, Any]
    if form_value(form, "part") == "people":
        body = {"decision_people": _people(form)}
    else:

        def text(name: str) -> str | None:
            return form_value(form, name) or None

        body = {
            "title": form_value(form, "title"),
            "amount": form_value(form, "amount") or "0",
            "expected_close_date": text("expected_close_date"),
            "key_info": {
                "schedule": text("schedule"),
                "budget": text("budget"),
                "requirements": {
                    "modules": _lines(form, "modules"),
                    "services": _lines(form, "services"),
                    "geographic_scope": text("geographic_scope"),
                    "language_scope": text("language_scope"),
                },
                "decision_process": text("decision_process"),
                "competition": text("competition"),
                "key_evaluation_criteria": text("key_evaluation_criteria"),
            },
        }
    await service.update_deal(tenant_scope, deal_id, convert(body, DealUpdate))
    if "decision_people" in body:
        return _reload()
    return await render(request, tenant_scope, "app/_saved.html")


@put("/deals/{deal_id:uuid}/contract-terms")
async def put_terms(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Response[Any]:
    form = await request.form()
    body: dict[str, Any] = {
        name: form_value(form, name) or None
        for name in (
            "quote_id",
            "party_a_full_name",
            "party_a_address",
            "party_a_contact",
            "party_a_phone",
            "onsite_fee_per_day",
        )
    }
    for name in ("free_upgrade_years", "delivery_percent", "stable_weeks", "installation_days"):
        if value := form_value(form, name):
            body[name] = value
    body["onsite_service_chargeable"] = form_value(form, "onsite_service_chargeable") == "1"
    await terms.put_terms(tenant_scope, deal_id, convert(body, ContractTermsWrite))
    return _reload()


@put("/deals/{deal_id:uuid}/milestones")
async def put_milestones(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Response[Any]:
    """The edited plan (rows without an amount are left out); ``reset=1``: back to the rule's plan."""
    form = await request.form()
    plan: list[dict[str, Any]] = []
    if form_value(form, "reset") != "1":
        for i in range(MAX_MILESTONES):
            amount = form_value(form, f"ms-{i}-amount")
            if not amount:
                continue
            plan.append(
                {
                    "code": form_value(form, f"ms-{i}-code"),
                    "amount": amount,
                    "due_days": form_value(form, f"ms-{i}-due_days") or "0",
                }
            )
    await terms.put_milestones(tenant_scope, deal_id, convert({"milestones": plan or None}, MilestonesWrite))
    return _reload()


@post("/collections/{collection_id:uuid}/paid")
async def record_payment(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], collection_id: FromPath[UUID]
) -> Response[Any]:
    form = await request.form()
    body: dict[str, Any] = {}
    for name in ("amount", "paid_on", "note"):
        if value := form_value(form, name):
            body[name] = value
    await payments.mark_paid(tenant_scope, collection_id, convert(body, CollectionPaid))
    return _reload()


ROUTES = [deal_page, update_deal, put_terms, put_milestones, record_payment]
