"""Signatures: send a ready document for signature (``/documents/{id}/send``: signers in order or in
parallel, CC, message, expiry, reminders), follow an envelope (``/envelopes/{id}``: each signer's state
with its times, the evidence trail and whether its hash chain verifies, remind now, void, send a
draft; once completed the sealed PDF and its certificate of completion), and ``/envelopes`` — mine or
my team's, filtered by status, paged in place.

Everything is the signing services' (``create_envelope``, ``send_envelope``, ``remind_envelope``,
``void_envelope``, ``get_envelope``, ``get_evidence``, ``list_envelopes``, ``certificate_pdf``): this
module reads the forms and renders."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.documents import service as documents
from app.errors import ValidationFailed
from app.i18n import N_
from app.signing import report, service
from app.signing.schemas import EnvelopeCreate, EnvelopeRead
from app.web.documents import ENVELOPE_STATUSES, helpers, kind_title, storage
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.scope import TenantScope

PAGE_SIZE = 20
MAX_SIGNERS = 10
MAX_CC = 20
SIGNER_STATUSES = {
    "pending": N_("Waiting for their turn"),
    "sent": N_("Sent"),
    "viewed": N_("Viewed"),
    "signed": N_("Signed"),
    "declined": N_("Declined"),
}
EVENTS = {
    "created": N_("Created"),
    "sent": N_("Sent"),
    "viewed": N_("Viewed"),
    "consented": N_("Agreed to sign electronically"),
    "signed": N_("Signed"),
    "declined": N_("Declined"),
    "reminded": N_("Reminded"),
    "expired": N_("Expired"),
    "voided": N_("Voided"),
    "completed": N_("Completed and sealed"),
    "sender_changed": N_("Sender changed"),
}
M_NO_SIGNER = N_("Add at least one signer")
M_SIGNER = N_("Enter each signer's name and a valid email address")
M_CC = N_("Enter each copy's name and a valid email address")
M_NUMBERS = N_("Expiry is 1 to 365 days, reminders every 1 to 60 days, at most 3")
M_TEXT = N_("The title or the message is too long")
M_REASON = N_("Say why the envelope is voided")


class VoidForm(msgspec.Struct):
    reason: str = ""


def _context(scope: TenantScope) -> dict[str, Any]:
    return {
        **helpers(scope),
        "signer_statuses": SIGNER_STATUSES,
        "events": EVENTS,
    }


def _rows(form: Any, prefix: str) -> list[dict[str, str]]:
    """The filled rows of a repeated group of fields (``signer_name``, ``signer_email`` …)."""
    names, emails, locales = (form.getall(f"{prefix}_{f}", []) for f in ("name", "email", "locale"))
    rows = []
    for i, (name, email) in enumerate(zip(names, emails, strict=False)):
        name, email = str(name).strip(), str(email).strip()
        if name or email:
            locale = str(locales[i]) if i < len(locales) else "zh-CN"
            rows.append({"name": name, "email": email, "locale": locale})
    return rows


def _number(form: Any, name: str, default: int) -> Any:
    value = str(form.get(name) or "").strip()
    return int(value) if value.isdigit() else (value or default)


def envelope_body(form: Any, document_id: UUID) -> EnvelopeCreate:
    """The send form as the API's body: the schema's own checks answer, as 422 on the field."""
    signers = _rows(form, "signer")
    if not signers:
        raise ValidationFailed.field("signers", M_NO_SIGNER)
    body: dict[str, Any] = {
        "document_id": str(document_id),
        "signers": signers,
        "signing_order": "parallel" if form.get("signing_order") == "parallel" else "sequential",
        "title": str(form.get("title") or "").strip() or None,
        "message": str(form.get("message") or "").strip() or None,
        "cc": _rows(form, "cc"),
        "expiry_days": _number(form, "expiry_days", 30),
        "reminder_interval_days": _number(form, "reminder_interval_days", 3),
        "reminder_max": _number(form, "reminder_max", 3),
    }
    try:
        return msgspec.convert(body, EnvelopeCreate)
    except msgspec.ValidationError as exc:
        where = str(exc)
        if "$.signers" in where:
            raise ValidationFailed.field("signers", M_SIGNER) from None
        if "$.cc" in where:
            raise ValidationFailed.field("cc", M_CC) from None
        if "$.title" in where or "$.message" in where:
            raise ValidationFailed.field("title", M_TEXT) from None
        raise ValidationFailed.field("expiry_days", M_NUMBERS) from None


@get("/documents/{document_id:uuid}/send")
async def send_form(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], document_id: FromPath[UUID]
) -> Template:
    doc = await documents.get_document(tenant_scope, storage(request), document_id)
    contract = doc.kind == "contract"
    signers = [{"name": "", "email": "", "locale": doc.locale}]
    if contract:  # Party A (the customer) signs first, then Party B (us)
        signers.append(
            {"name": tenant_scope.name or "", "email": tenant_scope.email or "", "locale": doc.locale}
        )
    return await render(
        request,
        tenant_scope,
        "app/envelope_new.html",
        doc=doc,
        can_send=doc.status == "ready" and doc.pdf is not None,
        title=kind_title(doc.kind, doc.locale),
        signers=signers,
        contract=contract,
        **_context(tenant_scope),
    )


@get("/documents/{document_id:uuid}/send/row")
async def extra_row(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], document_id: FromPath[UUID]
) -> Template:
    """One more signer (or CC) row for the send form (htmx), for a document the member may send."""
    await documents.get_document(tenant_scope, storage(request), document_id)
    group = "cc" if request.query_params.get("group") == "cc" else "signer"
    try:
        number = max(
            1, min(int(request.query_params.get("n", "1")), MAX_SIGNERS if group == "signer" else MAX_CC)
        )
    except ValueError:
        number = 1
    return await render(
        request,
        tenant_scope,
        "app/_envelope_row.html",
        group=group,
        n=number,
        row={"name": "", "email": "", "locale": tenant_scope.tenant_locale},
        with_add=True,
        languages=helpers(tenant_scope)["languages"],
        max_rows=MAX_SIGNERS if group == "signer" else MAX_CC,
        document_id=document_id,
    )


@post("/documents/{document_id:uuid}/send")
async def send(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], document_id: FromPath[UUID]
) -> Response[Any]:
    """Create the envelope and send it (the first signer(s) are emailed); then to its page."""
    body = envelope_body(await request.form(), document_id)
    envelope = await service.create_envelope(tenant_scope, body)
    await service.send_envelope(tenant_scope, envelope.id)
    return Response("", status_code=200, headers={"HX-Redirect": f"/envelopes/{envelope.id}"})


async def _envelope_context(
    request: Request[Any, Any, Any], scope: TenantScope, envelope_id: UUID
) -> dict[str, Any]:
    env = await service.get_envelope(scope, storage(request), envelope_id)
    trail = await service.get_evidence(scope, envelope_id)
    names = {s.id: s.name for s in env.signers}
    return {"env": env, "trail": trail, "signer_names": names, **_context(scope)}


@get("/envelopes/{envelope_id:uuid}")
async def envelope_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], envelope_id: FromPath[UUID]
) -> Template:
    context = await _envelope_context(request, tenant_scope, envelope_id)
    return await render(request, tenant_scope, "app/envelope.html", **context)


# What each link of the evidence report is, for people (``app.signing.report.LINKS``).
EVIDENCE_LINKS = {
    "template": N_("Template"),
    "data": N_("Data snapshot"),
    "docx": N_("Rendered Word file"),
    "pdf": N_("Rendered PDF"),
    "original": N_("PDF sent for signing"),
    "evidence": N_("Evidence chain"),
    "sealed_pdf": N_("Sealed PDF"),
    "seal": N_("Seal, certificate and timestamp"),
}


@get("/envelopes/{envelope_id:uuid}/evidence")
async def evidence_report_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], envelope_id: FromPath[UUID]
) -> Template:
    """The evidence report: each link from the template to the sealed PDF, recomputed now."""
    result = await report.evidence_report(tenant_scope, storage(request), envelope_id)
    return await render(
        request,
        tenant_scope,
        "app/envelope_evidence.html",
        report=result,
        link_names=EVIDENCE_LINKS,
        **_context(tenant_scope),
    )


@post("/envelopes/{envelope_id:uuid}/remind")
async def remind(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], envelope_id: FromPath[UUID]
) -> Template:
    """Remind now (htmx): a confirmation where the button is, and the signers and trail anew."""
    await service.remind_envelope(tenant_scope, envelope_id)
    context = await _envelope_context(request, tenant_scope, envelope_id)
    return await render(request, tenant_scope, "app/_envelope_reminded.html", **context)


@post("/envelopes/{envelope_id:uuid}/void")
async def void(
    tenant_scope: NamedDependency[TenantScope],
    envelope_id: FromPath[UUID],
    data: Annotated[VoidForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    reason = data.reason.strip()
    if not reason or len(reason) > 2000:
        raise ValidationFailed.field("reason", M_REASON)
    await service.void_envelope(tenant_scope, envelope_id, reason)
    return Response("", status_code=200, headers={"HX-Redirect": f"/envelopes/{envelope_id}"})


@post("/envelopes/{envelope_id:uuid}/send")
async def send_draft(
    tenant_scope: NamedDependency[TenantScope], envelope_id: FromPath[UUID]
) -> Response[Any]:
    await service.send_envelope(tenant_scope, envelope_id)
    return Response("", status_code=200, headers={"HX-Redirect": f"/envelopes/{envelope_id}"})


@get("/envelopes/{envelope_id:uuid}/certificate.pdf")
async def certificate(
    tenant_scope: NamedDependency[TenantScope], request: Request[Any, Any, Any], envelope_id: FromPath[UUID]
) -> Response[bytes]:
    """The certificate of completion on its own (the sealed PDF's last pages)."""
    pdf, filename = await service.certificate_pdf(tenant_scope, storage(request), envelope_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(filename)}",
            "Cache-Control": "private, no-store",
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def signed_count(env: EnvelopeRead) -> int:
    return sum(1 for s in env.signers if s.status == "signed")


@get("/envelopes")
async def envelopes_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    view = "team" if request.query_params.get("view") == "team" else "mine"
    status = request.query_params.get("status", "").strip()
    status = status if status in ENVELOPE_STATUSES else ""
    page = await service.list_envelopes(
        tenant_scope,
        status or None,
        PAGE_SIZE,
        request.query_params.get("cursor") or None,
        created_by=tenant_scope.membership_id if view == "mine" else None,
    )
    more_query = f"view={view}" + (f"&status={status}" if status else "")
    context: dict[str, Any] = {
        "page": page,
        "view": view,
        "status": status,
        "more_query": more_query,
        "signed_count": signed_count,
        **_context(tenant_scope),
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, tenant_scope, "app/_envelope_items.html", **context)
    return await render(request, tenant_scope, "app/envelopes.html", **context)


ROUTER = Router(
    path="/",
    route_handlers=[
        send_form,
        extra_row,
        send,
        envelope_page,
        evidence_report_page,
        remind,
        void,
        send_draft,
        certificate,
        envelopes_page,
    ],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
