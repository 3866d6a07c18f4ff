"""Documents: generate a contract or proposal from a deal (``/deals/{id}/documents/new``) or a customer
(``/customers/{id}/documents/new``) — kind, language, template; ``/documents/{id}`` follows the render
(htmx polls ``/documents/{id}/status`` while the worker renders), then shows the downloads (the API's
presigned links), a preview of the PDF's pages and the document's evidence (template version, data
hash, file hashes), or the reason a render failed; ``/documents`` lists them with filters.

The preview is PNG images of the PDF's pages served from this site (``/documents/{id}/pages/{n}``:
rendered by poppler's ``pdftoppm`` on first request, then kept in storage): the pages' Content-Security-
Policy has ``default-src 'none'`` (no frames or objects) and the presigned PDF lives on the storage's
host, so an ``<iframe>``/``<object>`` of the PDF could not show; ``img-src 'self'`` can.

Everything is the document services' (``create_document``, ``get_document``, ``list_documents``) and
the templates' (``list_templates``, admins only: the template choice lists versions for them; members
use the company's active template or the built-in one)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.customers.service import get_customer
from app.deals.service import get_deal
from app.documents import kinds, service, templates
from app.documents.schemas import DocumentCreate, DocumentRead
from app.errors import NotFound, ValidationFailed
from app.i18n import N_
from app.localtime import zone
from app.signing import pdfwork
from app.signing import service as signing
from app.storage import Storage
from app.web.shell import OWN_TRANSACTIONS, PAGE, PAGE_ERRORS, is_htmx, render
from tenants.scope import TenantScope

PAGE_SIZE = 20
MAX_PREVIEW_PAGES = 30
# what a document can be about, and the kinds offered for it (a handover sheet comes from a handover)
SUBJECTS = {
    "deal": N_("Deal"),
    "customer": N_("Customer"),
    "quote": N_("Quote"),
    "handover": N_("Handover"),
    "sample": N_("Sample data"),
}
OFFERED = ("contract", "proposal_requirements", "proposal_product", "proposal_pricing", "quote", "acceptance")
STATUSES = {
    "queued": N_("Waiting for the renderer"),
    "rendering": N_("Rendering"),
    "ready": N_("Ready"),
    "failed": N_("Failed"),
    "voided": N_("Voided"),
}
LANGUAGES = {"zh-CN": "中文", "en": "English"}
M_KIND = N_("Choose a kind of document")

ENVELOPE_STATUSES = {
    "draft": N_("Draft"),
    "sent": N_("Out for signature"),
    "completed": N_("Completed"),
    "declined": N_("Declined"),
    "expired": N_("Expired"),
    "voided": N_("Voided"),
}


class GenerateForm(msgspec.Struct):
    kind: str = ""
    locale: str = ""
    template_version_id: str = ""
    idempotency_key: str = ""


def storage(request: Request[Any, Any, Any]) -> Storage:
    store: Storage = request.app.state.storage
    return store


def when(value: datetime | None, scope: TenantScope) -> str:
    """A time as the tenant's local time to the minute (empty for None)."""
    return value.astimezone(zone(scope.time_zone)).strftime("%Y-%m-%d %H:%M") if value else ""


def kind_title(kind: str, locale: str) -> str:
    found = kinds.KINDS.get(kind)
    return found.title.get(locale, kind) if found else kind


def size_text(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def helpers(scope: TenantScope) -> dict[str, Any]:
    """What the documents' and envelopes' templates use to show times, kinds and sizes."""
    return {
        "when": lambda value: when(value, scope),
        "kind_title": lambda kind: kind_title(kind, scope.locale),
        "size_text": size_text,
        "statuses": STATUSES,
        "envelope_statuses": ENVELOPE_STATUSES,
        "subjects": SUBJECTS,
        "languages": LANGUAGES,
    }


async def _subject(scope: TenantScope, subject_type: str, subject_id: str) -> dict[str, str] | None:
    """The subject's name and page, when the member sees it (a deal or a customer)."""
    try:
        if subject_type == "deal":
            deal = await get_deal(scope, UUID(subject_id))
            return {"name": deal.title, "href": f"/deals/{deal.id}", "type": "deal"}
        if subject_type == "customer":
            customer = await get_customer(scope, UUID(subject_id))
            return {"name": customer.full_name, "href": f"/customers/{customer.id}", "type": "customer"}
    except (NotFound, ValueError):
        return None
    return None


async def _template_choices(scope: TenantScope, kind: str, locale: str) -> list[Any]:
    """The uploaded versions of ``kind`` in ``locale`` (admins and owners only: theirs to choose)."""
    if not scope.at_least("admin") or kind not in kinds.KINDS or locale not in kinds.LOCALES:
        return []
    return (await templates.list_templates(scope, kind=kind, locale=locale, limit=50)).items


async def _new_form(
    request: Request[Any, Any, Any], scope: TenantScope, subject_type: str, subject: dict[str, str]
) -> Template:
    kind = request.query_params.get("kind") or (
        "contract" if subject_type == "deal" else "proposal_requirements"
    )
    kind = kind if kind in OFFERED else "contract"
    locale = request.query_params.get("locale") or scope.tenant_locale
    locale = locale if locale in kinds.LOCALES else "zh-CN"
    return await render(
        request,
        scope,
        "app/document_new.html",
        subject=subject,
        subject_type=subject_type,
        action=f"{subject['href']}/documents",
        offered=OFFERED,
        kind=kind,
        doc_locale=locale,
        choices=await _template_choices(scope, kind, locale),
        idempotency_key=str(uuid.uuid4()),
        **helpers(scope),
    )


@get("/deals/{deal_id:uuid}/documents/new")
async def new_for_deal(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Template:
    deal = await get_deal(tenant_scope, deal_id)  # the deal's 404 for one the member does not see
    subject = {"name": deal.title, "href": f"/deals/{deal.id}", "type": "deal"}
    return await _new_form(request, tenant_scope, "deal", subject)


@get("/customers/{customer_id:uuid}/documents/new")
async def new_for_customer(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
) -> Template:
    customer = await get_customer(tenant_scope, customer_id)
    subject = {"name": customer.full_name, "href": f"/customers/{customer.id}", "type": "customer"}
    return await _new_form(request, tenant_scope, "customer", subject)


@get("/documents/template-options")
async def template_options(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    """The template select's options for the chosen kind and language (htmx, on change)."""
    kind = request.query_params.get("kind", "")
    locale = request.query_params.get("locale", "")
    choices = await _template_choices(tenant_scope, kind, locale)
    return await render(request, tenant_scope, "app/_template_options.html", choices=choices)


async def _generate(
    scope: TenantScope, subject_type: str, subject_id: UUID, form: GenerateForm
) -> Response[Any]:
    if form.kind not in OFFERED:
        raise ValidationFailed.field("kind", M_KIND)
    template_id = None
    if form.template_version_id:
        try:
            template_id = UUID(form.template_version_id)
        except ValueError:
            raise NotFound("No template with this id") from None
    accepted = await service.create_document(
        scope,
        DocumentCreate(
            kind=form.kind,
            subject_type=subject_type,
            subject_id=str(subject_id),
            idempotency_key=(form.idempotency_key or str(uuid.uuid4()))[:200],
            template_version_id=template_id,
            locale=form.locale or None,
        ),
    )
    return Response("", status_code=200, headers={"HX-Redirect": f"/documents/{accepted.id}"})


@post("/deals/{deal_id:uuid}/documents")
async def generate_for_deal(
    tenant_scope: NamedDependency[TenantScope],
    deal_id: FromPath[UUID],
    data: Annotated[GenerateForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """The form's answer (htmx): to the document's page, which follows the render."""
    return await _generate(tenant_scope, "deal", deal_id, data)


@post("/customers/{customer_id:uuid}/documents")
async def generate_for_customer(
    tenant_scope: NamedDependency[TenantScope],
    customer_id: FromPath[UUID],
    data: Annotated[GenerateForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    return await _generate(tenant_scope, "customer", customer_id, data)


def _pages_key(tenant_id: UUID, document_id: UUID, name: str) -> str:
    return f"documents/{tenant_id}/{document_id}/pages/{name}"


async def page_count(store: Storage, scope: TenantScope, doc: DocumentRead) -> int:
    """How many pages the document's PDF has (counted once, then kept beside the page images)."""
    if doc.pdf is None:
        return 0
    key = _pages_key(scope.tenant_id, doc.id, "count")
    try:
        return int((await store.get(key)).decode())
    except Exception:
        pdf = await store.get(service.pdf_key(scope.tenant_id, doc.id))
        count = await asyncio.to_thread(pdfwork.page_count, pdf)
        await store.put(key, str(count).encode(), "text/plain")
        return count


async def _status_context(
    request: Request[Any, Any, Any], scope: TenantScope, doc: DocumentRead
) -> dict[str, Any]:
    pages = await page_count(storage(request), scope, doc) if doc.status in ("ready", "voided") else 0
    return {
        "doc": doc,
        "pages": range(1, min(pages, MAX_PREVIEW_PAGES) + 1),
        "page_total": pages,
        "can_send": doc.status == "ready" and doc.pdf is not None,
        **helpers(scope),
    }


@get("/documents/{document_id:uuid}")
async def document_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], document_id: FromPath[UUID]
) -> Template:
    doc = await service.get_document(tenant_scope, storage(request), document_id)
    return await render(
        request,
        tenant_scope,
        "app/document.html",
        subject=await _subject(tenant_scope, doc.subject_type, doc.subject_id),
        envelopes=(await signing.list_envelopes(tenant_scope, None, 20, None, document_id=doc.id)).items,
        **await _status_context(request, tenant_scope, doc),
    )


@get("/documents/{document_id:uuid}/status")
async def document_status(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], document_id: FromPath[UUID]
) -> Template:
    """The render's progress (htmx polls it while queued or rendering), then the result in its place."""
    doc = await service.get_document(tenant_scope, storage(request), document_id)
    return await render(
        request,
        tenant_scope,
        "app/_document_status.html",
        **await _status_context(request, tenant_scope, doc),
    )


@get("/documents/{document_id:uuid}/pages/{number:int}", opt={OWN_TRANSACTIONS: True})
async def page_image(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    document_id: FromPath[UUID],
    number: FromPath[int],
) -> Response[bytes]:
    """One page of the document's PDF as PNG: rendered on first request, then kept in storage."""
    store = storage(request)
    doc = await service.get_document(tenant_scope, store, document_id)
    if not 1 <= number <= min(await page_count(store, tenant_scope, doc), MAX_PREVIEW_PAGES):
        raise NotFound("No such page")
    key = _pages_key(tenant_scope.tenant_id, doc.id, f"{number}.png")
    try:
        png = await store.get(key)
    except Exception:
        pdf = await store.get(service.pdf_key(tenant_scope.tenant_id, doc.id))
        png = await asyncio.to_thread(pdfwork.render_page_png, pdf, number)
        await store.put(key, png, "image/png")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


_FILTERS = ("kind", "subject_type")


@get("/documents")
async def documents_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    chosen = {k: v for k in _FILTERS if (v := request.query_params.get(k, "").strip())}
    if chosen.get("kind") not in (None, *kinds.KINDS):
        chosen.pop("kind")
    if chosen.get("subject_type") not in (None, *SUBJECTS):
        chosen.pop("subject_type")
    page = await service.list_documents(
        tenant_scope,
        storage(request),
        kind=chosen.get("kind"),
        subject_type=chosen.get("subject_type"),
        limit=PAGE_SIZE,
        cursor=request.query_params.get("cursor") or None,
    )
    context: dict[str, Any] = {
        "page": page,
        "chosen": chosen,
        "more_query": "&".join(f"{k}={v}" for k, v in chosen.items()),
        **helpers(tenant_scope),
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, tenant_scope, "app/_document_items.html", **context)
    return await render(request, tenant_scope, "app/documents.html", all_kinds=list(kinds.KINDS), **context)


ROUTER = Router(
    path="/",
    route_handlers=[
        new_for_deal,
        new_for_customer,
        template_options,
        generate_for_deal,
        generate_for_customer,
        document_page,
        document_status,
        page_image,
        documents_page,
    ],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
