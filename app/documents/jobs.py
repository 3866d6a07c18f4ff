"""The ``render_document`` job: data snapshot → DOCX (docxtpl, sandboxed, in a child process with CPU,
memory and wall-clock limits) → PDF (LibreOffice) → object storage, moving the document queued →
rendering → ready | failed (a document voided meanwhile is left alone: ``service.void_documents``).

At-least-once safe: a finished document is left alone; a document being rendered by another job
is left to it; object keys are fixed by the document id, so a rerun overwrites the same two objects;
the data snapshot is taken once and reused by every later try. Failures are sorted: the template or
the data at fault (render errors, a document LibreOffice cannot convert, a vanished subject) fail
the document at once with a human reason; infrastructure trouble (storage, a crashed or busy
converter, a render process that died) is retried with backoff (``arq.Retry``) and fails for good
after ``MAX_TRIES``. One try takes at most ``TIMEOUT_SECONDS`` (then it counts as transient trouble):
ARQ's own timeout for the job is a little longer, so that ARQ never cancels a try mid-way and leaves
the document 'rendering' with nobody to finish it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import zipfile
from typing import Any
from uuid import UUID

import structlog
from arq import Retry

from app import db, i18n
from app.documents import convert, labels, render_process, soffice
from app.documents.providers import SubjectRequest, get_provider, to_jsonable
from app.documents.rendering import TemplateBroken, default_template_path
from app.documents.service import M_INCOMPLETE, docx_key, missing_values, pdf_key, tenant_context
from app.documents.templates import DOCX_TYPE, template_key
from app.documents.validation import default_needs, needed_variables
from app.errors import AppError
from app.settings import get_settings
from app.storage import Storage, create_storage
from tenants.profile import SLOTS, load_version
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)
MAX_TRIES = 4  # below the worker's max_tries, so the last try can still record the failure
TIMEOUT_SECONDS = 240  # one try: data, a render (≤ 10 s), a conversion (≤ 120 s) and the uploads
ARQ_TIMEOUT_SECONDS = TIMEOUT_SECONDS + 30
# A claim older than this belongs to a try that cannot be running any more (ARQ cancels it first).
_CLAIM_TIMEOUT_SECONDS = ARQ_TIMEOUT_SECONDS + 30
_CLAIM_TIMEOUT = f"{_CLAIM_TIMEOUT_SECONDS} seconds"
_storage: Storage | None = None


class Permanent(Exception):
    """Fail the document with this (human) reason; retrying cannot help."""


def storage() -> Storage:
    global _storage
    if _storage is None:
        _storage = create_storage(get_settings())
    return _storage


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _claim(tenant: UUID, document_id: UUID, job_id: str) -> Any:
    """Take the document for this job, or None when it is finished or another job holds it. A row
    left 'rendering' by an earlier try of this same job (ARQ retried it) is taken over."""
    async with db.transaction(tenant) as tx:
        return await tx.fetchrow(
            "UPDATE documents SET status = 'rendering', claimed_by = $2, claimed_at = now(),"
            " attempts = attempts + 1, updated_at = now() WHERE tenant = $3"
            " AND id = $1 AND (status = 'queued' OR (status = 'rendering' AND (claimed_by = $2"
            f" OR claimed_at < now() - interval '{_CLAIM_TIMEOUT}')))"
            " RETURNING *",
            document_id,
            job_id,
            tenant,
        )


async def _finish(tenant: UUID, document_id: UUID, **values: Any) -> None:
    """End this try of the claimed document (a document voided meanwhile stays voided)."""
    names = list(values)
    sets = ", ".join(f"{n} = ${i + 3}" for i, n in enumerate(names))
    async with db.transaction(tenant) as tx:
        await tx.execute(
            f"UPDATE documents SET {sets}, updated_at = now()"
            " WHERE tenant = $2 AND id = $1 AND status = 'rendering'",
            document_id,
            tenant,
            *[values[n] for n in names],
        )


async def _snapshot(row: Any, tenant: UUID, needs: list[str]) -> tuple[dict[str, Any], str]:
    """The data to render: the stored snapshot, or gathered now from the subject's provider (with the
    company profile version the document recorded) and refused when it leaves a needed value blank."""
    if row["data"] is not None:
        data = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        return data, row["data_sha256"].strip()
    provide = get_provider(row["subject_type"])
    if provide is None:
        raise Permanent(f"no data provider for subject type {row['subject_type']}")
    scope = await TenantScope.for_job(tenant)
    async with scope.tx() as tx:
        context = await tenant_context(tx, scope, row["generated_by"], row["profile_version_id"])
        try:
            data = await provide(
                SubjectRequest(
                    scope, tx, row["subject_id"], row["kind"], row["locale"], **context, document_id=row["id"]
                )
            )
        except AppError as exc:
            raise Permanent(f"the subject could not be read: {exc.detail or exc.title}") from exc
        data = to_jsonable(data)
        missing = missing_values(needs, data, row["locale"])
        if missing:
            raise Permanent(
                i18n.translate(row["locale"], M_INCOMPLETE, fields=labels.join(missing, row["locale"]))
            )
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        digest = sha256(text.encode())
        await tx.execute(
            "UPDATE documents SET data = $2::jsonb, data_sha256 = $3 WHERE tenant = $4 AND id = $1",
            row["id"],
            text,
            digest,
            tenant,
        )
    return data, digest


def _needs(row: Any, template: bytes) -> list[str]:
    if row["template_id"] is None:
        return list(default_needs(row["kind"], row["locale"]))
    try:
        return needed_variables(template, row["kind"])
    except (ValueError, zipfile.BadZipFile, KeyError) as exc:
        raise Permanent(f"the template could not be read: {exc}") from exc


async def _images(row: Any, tenant: UUID, data: dict[str, Any], store: Storage) -> dict[str, bytes]:
    """The profile's pictures the data refers to (``party_b.logo``/``seal`` hold their sha256), from
    the version the document recorded; a stored picture that does not match fails the document."""
    wanted = {slot: (data.get("party_b") or {}).get(slot) for slot in SLOTS}
    if not any(wanted.values()):
        return {}
    async with db.transaction(tenant) as tx:
        version = await load_version(tx, tenant, row["profile_version_id"])
    images: dict[str, bytes] = {}
    for slot, digest in wanted.items():
        if not digest:
            continue
        if version is None or (version[f"{slot}_sha256"] or "").strip() != digest:
            raise Permanent(f"the company profile's {slot} of this document is not stored")
        blob = await store.get(version[f"{slot}_key"])
        if sha256(blob) != digest:
            raise Permanent(f"the stored {slot} does not match its recorded sha256")
        images[f"party_b.{slot}"] = blob
    return images


async def _template_bytes(row: Any, tenant: UUID, store: Storage) -> bytes:
    if row["template_id"] is None:
        return await asyncio.to_thread(default_template_path(row["kind"], row["locale"]).read_bytes)
    data = await store.get(template_key(tenant, row["kind"], row["locale"], row["template_version"]))
    if sha256(data) != row["template_sha256"].strip():
        raise Permanent("the stored template does not match its recorded sha256")
    return data


def _backoff(tries: int) -> int:
    return min(5 * 2 ** (tries - 1), 120)


async def _produce(
    row: Any, tenant: UUID, store: Storage, converter: convert.Converter, timings: dict[str, float]
) -> tuple[bytes, bytes | None, str | None, str | None, str]:
    """DOCX and PDF of the claimed document, both stored; returns (docx, pdf, pdf note, converter,
    sha256 of the template used)."""
    settings = get_settings()
    template = await _template_bytes(row, tenant, store)
    data, _ = await _snapshot(row, tenant, _needs(row, template))
    images = await _images(row, tenant, data, store)
    started = time.perf_counter()
    try:
        docx = await render_process.render(
            template,
            data,
            render_process.Limits(settings.render_timeout_seconds, settings.render_memory_mb),
            images,
        )
    except TemplateBroken as exc:
        raise Permanent(f"the template could not be rendered: {exc}") from exc
    timings["render_ms"] = round((time.perf_counter() - started) * 1000, 2)
    pdf: bytes | None = None
    note = method = None
    started = time.perf_counter()
    try:
        pdf, method = await converter.convert(docx)
    except soffice.ConversionUnavailable as exc:
        note = f"no PDF: {exc}"
    except soffice.ConversionFailed as exc:
        raise Permanent(str(exc)) from exc
    timings["convert_ms"] = round((time.perf_counter() - started) * 1000, 2)
    started = time.perf_counter()
    await store.put(docx_key(tenant, row["id"]), docx, DOCX_TYPE)
    if pdf is not None:
        await store.put(pdf_key(tenant, row["id"]), pdf, "application/pdf")
    timings["upload_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return docx, pdf, note, method, sha256(template)


async def render_document(ctx: dict[str, Any], tenant_id: str, document_id: str) -> str:
    """ARQ job. Returns what happened: "ready", "failed", "already-<status>" or "missing"; raises
    ``Retry`` for transient trouble, and while another attempt holds the claim."""
    tenant, doc_id = UUID(tenant_id), UUID(document_id)
    job_id = str(ctx.get("job_id") or f"render_document:{document_id}")
    tries = int(ctx.get("job_try") or 1)
    row = await _claim(tenant, doc_id, job_id)
    if row is None:
        async with db.transaction(tenant) as tx:
            status = await tx.fetchval(
                "SELECT status FROM documents WHERE tenant = $1 AND id = $2", tenant, doc_id
            )
        if status is None:
            return "missing"
        if status in ("ready", "failed", "voided"):
            return f"already-{status}"
        # Claimed by another attempt: it may be rendering right now, or its worker may have died.
        # Finishing here would leave the document 'rendering' for good in the second case, so look
        # again once the claim has gone stale (then ``_claim`` takes it over).
        raise Retry(defer=_CLAIM_TIMEOUT_SECONDS + 30)
    store = ctx.get("storage") or storage()
    converter: convert.Converter = ctx.get("converter") or convert.get_converter()
    timings: dict[str, float] = {}
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            docx, pdf, note, method, template_sha = await _produce(row, tenant, store, converter, timings)
    except Permanent as exc:
        await _finish(
            tenant,
            doc_id,
            status="failed",
            failure_reason=str(exc)[:1000],
            finished_at=_now(),
            claimed_by=None,
        )
        log.warning("document failed", document_id=document_id, reason=str(exc))
        return "failed"
    except Exception as exc:  # storage, converter crash, database hiccup: transient
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        if tries >= MAX_TRIES:
            await _finish(
                tenant,
                doc_id,
                status="failed",
                last_error=reason,
                finished_at=_now(),
                claimed_by=None,
                failure_reason=f"gave up after {tries} tries: {reason}",
            )
            log.error("document failed after retries", document_id=document_id, error=reason)
            return "failed"
        await _finish(tenant, doc_id, status="queued", last_error=reason, claimed_by=None)
        log.warning("document render will be retried", document_id=document_id, error=reason, tries=tries)
        raise Retry(defer=_backoff(tries)) from exc
    await _finish(
        tenant,
        doc_id,
        status="ready",
        failure_reason=None,
        finished_at=_now(),
        claimed_by=None,
        docx_key=docx_key(tenant, doc_id),
        docx_sha256=sha256(docx),
        docx_size=len(docx),
        pdf_key=pdf_key(tenant, doc_id) if pdf is not None else None,
        pdf_sha256=sha256(pdf) if pdf is not None else None,
        pdf_size=len(pdf) if pdf is not None else None,
        pdf_note=note,
        converter=method,
        timings=json.dumps(timings),
        rendered_template_sha256=template_sha,
    )
    return "ready"


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def worker_startup(ctx: dict[str, Any]) -> None:
    """Start the render server, and warm the converters in the background (a cold LibreOffice takes
    seconds; jobs that arrive meanwhile wait for it), or say once that PDFs are off."""
    render_process.start()
    missing = soffice.describe_missing()
    if missing:
        log.warning(missing)
        return
    ctx["converter_warmup"] = asyncio.create_task(convert.get_converter().start(), name="converter-warmup")


async def worker_shutdown(ctx: dict[str, Any]) -> None:
    await convert.shutdown()
    render_process.stop()
