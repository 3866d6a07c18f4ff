"""Documents: request one (202; rendered by the ``render_document`` job), read it with short-lived
download links, list a subject's documents with who generated them from which template version.

Requesting is idempotent on ``(tenant, idempotency_key)``: the same key answers the same document
(409 if the key was used for another kind or subject). The subject's provider runs at request time
too: it is the access check (404 for an invisible subject) and catches what would only fail later:
a value the template prints that the data leaves blank (``validation.needed_variables``: Party A's
contact, the company profile's bank account …) is refused with 422 naming each by its label in the
member's language. A document records the company profile version it is made with (the newest at
request time); the render job reads that version, never a later one.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import asyncpg

from app import audit, db, outbox
from app.documents import kinds, labels
from app.documents.providers import SubjectRequest, get_provider
from app.documents.schemas import (
    DocumentAccepted,
    DocumentCreate,
    DocumentRead,
    Generator,
    StoredFile,
    TemplateRef,
)
from app.documents.validation import default_needs
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct
from app.sql import Params
from app.storage import Storage
from tenants import profile
from tenants.access import document_visible_sql
from tenants.scope import TenantScope

M_SUBJECT_TYPE = N_("Unknown subject type {subject_type}")
M_REQUIRED = N_("{label}: fill it in before generating this document")
M_INCOMPLETE = N_("Fill in {fields} before generating this document")
M_TEMPLATE_MISMATCH = N_("This template is for {kind} ({locale})")
_SELECT = (
    "SELECT d.*, u.name AS generated_by_name FROM documents d"
    " LEFT JOIN memberships m ON m.tenant = d.tenant AND m.id = d.generated_by"
    " LEFT JOIN users u ON u.id = m.user_id"
)


def docx_key(tenant_id: UUID, document_id: UUID) -> str:
    return f"documents/{tenant_id}/{document_id}/document.docx"


def pdf_key(tenant_id: UUID, document_id: UUID) -> str:
    return f"documents/{tenant_id}/{document_id}/document.pdf"


async def tenant_context(
    tx: db.Tx, scope: TenantScope, membership_id: UUID | None, profile_version_id: UUID | None
) -> dict[str, Any]:
    """What providers need besides the subject: the tenant's name and time zone (from the scope),
    the author, and the company profile version ``profile_version_id`` (empty for None)."""
    author = None
    if membership_id is not None:
        author = await tx.fetchrow(
            "SELECT u.name, u.email FROM memberships m JOIN users u ON u.id = m.user_id"
            " WHERE m.tenant = $1 AND m.id = $2",
            scope.tenant_id,
            membership_id,
        )
    version = await profile.load_version(tx, scope.tenant_id, profile_version_id)
    return {
        "tenant_name": scope.tenant_name,
        "time_zone": scope.time_zone,
        "author": {"name": author["name"] or "", "email": author["email"] or ""} if author else {},
        "profile": dict(version) if version is not None else {},
    }


def needs_of(kind: str, locale: str, template: asyncpg.Record | None) -> list[str]:
    """What the document's template prints unguarded: the default's, or the one recorded with the
    uploaded version (versions uploaded before that was recorded: nothing known, the render job
    checks)."""
    if template is None:
        return list(default_needs(kind, locale))
    needs = template["needs"]
    if needs is None:
        return []
    return list(json.loads(needs) if isinstance(needs, str) else needs)


def missing_values(needs: list[str], data: kinds.Data, locale: str) -> list[str]:
    """The labels (in ``locale``) of the needed values ``data`` leaves blank."""
    return [labels.label(path, locale) for path in kinds.blank_paths(needs, data)]


def check_required(needs: list[str], data: kinds.Data, locale: str) -> None:
    """422 naming each needed value that ``data`` leaves blank by its label in ``locale`` (each
    error's ``field`` is the variable's path, for programs)."""
    missing = kinds.blank_paths(needs, data)
    if missing:
        names = [labels.label(path, locale) for path in missing]
        raise ValidationFailed(
            M_INCOMPLETE,
            fields=labels.join(names, locale),
            extra={
                "errors": [
                    {"field": path, "message": M_REQUIRED, "params": {"label": name}}
                    for path, name in zip(missing, names, strict=True)
                ]
            },
        )


async def _template(
    tx: db.Tx, scope: TenantScope, data: DocumentCreate, locale: str
) -> asyncpg.Record | None:
    if data.template_version_id is not None:
        row = await tx.fetchrow(
            "SELECT id, kind, locale, version, sha256, needs FROM document_templates"
            " WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            data.template_version_id,
        )
        if row is None:
            raise NotFound("No template with this id")
        if row["kind"] != data.kind or row["locale"] != locale:
            raise ValidationFailed.field(
                "template_version_id", M_TEMPLATE_MISMATCH, kind=row["kind"], locale=row["locale"]
            )
        return row
    row = await tx.fetchrow(
        "SELECT id, kind, locale, version, sha256, needs FROM document_templates"
        " WHERE tenant = $1 AND kind = $2 AND locale = $3 AND active",
        scope.tenant_id,
        data.kind,
        locale,
    )
    return row


def _accepted(document_id: UUID, status: str) -> DocumentAccepted:
    return DocumentAccepted(id=document_id, status=status, url=f"/api/v1/documents/{document_id}")


async def create_document(scope: TenantScope, data: DocumentCreate) -> DocumentAccepted:
    """Queue a document (any member). Returns the existing one for a repeated idempotency key."""
    scope.require("rep")
    kinds.check_kind(data.kind)
    locale = kinds.check_locale(data.locale or scope.tenant_locale)
    provide = get_provider(data.subject_type)
    if provide is None:
        raise ValidationFailed.field("subject_type", M_SUBJECT_TYPE, subject_type=data.subject_type)
    async with scope.tx() as tx:
        existing = await tx.fetchrow(
            "SELECT id, status, kind, subject_type, subject_id FROM documents"
            " WHERE tenant = $1 AND idempotency_key = $2",
            scope.tenant_id,
            data.idempotency_key,
        )
        if existing is not None:
            return _same(existing, data)
        template = await _template(tx, scope, data, locale)
        current = await profile.current_version(tx, scope.tenant_id)
        profile_version_id = current["id"] if current is not None else None
        context = await tenant_context(tx, scope, scope.membership_id, profile_version_id)
        values = await provide(SubjectRequest(scope, tx, data.subject_id, data.kind, locale, **context))
        check_required(needs_of(data.kind, locale, template), values, scope.locale)
        document_id = await tx.fetchval(
            "INSERT INTO documents (tenant, idempotency_key, kind, locale, subject_type, subject_id,"
            " template_id, template_version, template_sha256, generated_by, profile_version_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            " ON CONFLICT (tenant, idempotency_key) DO NOTHING RETURNING id",
            scope.tenant_id,
            data.idempotency_key,
            data.kind,
            locale,
            data.subject_type,
            data.subject_id,
            template["id"] if template else None,
            template["version"] if template else None,
            template["sha256"] if template else None,
            scope.membership_id,
            profile_version_id,
        )
        if document_id is None:  # a concurrent request with the same key won
            raced = await tx.fetchrow(
                "SELECT id, status, kind, subject_type, subject_id FROM documents"
                " WHERE tenant = $1 AND idempotency_key = $2",
                scope.tenant_id,
                data.idempotency_key,
            )
            assert raced is not None
            return _same(raced, data)
        await outbox.add_job(tx, "render_document", scope.tenant_id, document_id, key=str(document_id))
        await audit.record(
            tx,
            scope.user_id,
            "document.requested",
            data.subject_type,
            data.subject_id,
            data={"document_id": str(document_id), "kind": data.kind},
        )
    return _accepted(document_id, "queued")


async def void_documents(tx: db.Tx, document_ids: list[UUID]) -> list[UUID]:
    """Void documents that must never be sent (a contract superseded by another one that was signed):
    a voided document is not rendered any more (a render in progress finishes without a trace), cannot
    be sent for signature, and keeps its files. Failed documents stay failed. Returns the ids voided."""
    if not document_ids:
        return []
    rows = await tx.fetch(
        "UPDATE documents SET status = 'voided', claimed_by = NULL, updated_at = now()"
        " WHERE tenant = $1 AND id = ANY($2::uuid[]) AND status <> ALL('{failed,voided}'::text[])"
        " RETURNING id",
        tx.tenant_id,
        document_ids,
    )
    return [r["id"] for r in rows]


def _same(row: asyncpg.Record, data: DocumentCreate) -> DocumentAccepted:
    if (row["kind"], row["subject_type"], row["subject_id"]) != (
        data.kind,
        data.subject_type,
        data.subject_id,
    ):
        raise Conflict("This idempotency key was already used for another document")
    return _accepted(row["id"], row["status"])


async def _read(storage: Storage, row: asyncpg.Record) -> DocumentRead:
    title = (
        kinds.KINDS[row["kind"]].title.get(row["locale"], row["kind"])
        if row["kind"] in kinds.KINDS
        else "document"
    )
    base = f"{title}-{str(row['id'])[:8]}"
    ready = row["status"] in ("ready", "voided")  # a voided document keeps its files

    async def stored(key: str | None, sha: str | None, size: int | None, ext: str) -> StoredFile | None:
        if not ready or not key or not sha:
            return None
        url = await storage.presigned_get(key, filename=f"{base}.{ext}")
        return StoredFile(url=url, sha256=sha.strip(), size=size or 0, filename=f"{base}.{ext}")

    return to_struct(
        DocumentRead,
        row,
        template=TemplateRef(
            id=row["template_id"],
            version=row["template_version"],
            sha256=row["template_sha256"].strip() if row["template_sha256"] else None,
        ),
        generated_by=Generator(membership_id=row["generated_by"], name=row["generated_by_name"]),
        data_sha256=row["data_sha256"].strip() if row["data_sha256"] else None,
        docx=await stored(row["docx_key"], row["docx_sha256"], row["docx_size"], "docx"),
        pdf=await stored(row["pdf_key"], row["pdf_sha256"], row["pdf_size"], "pdf"),
    )


async def get_document(scope: TenantScope, storage: Storage, document_id: UUID) -> DocumentRead:
    async with scope.tx() as tx:
        p = Params(scope.tenant_id, document_id)
        visible = await document_visible_sql(tx, scope, p)
        row = await tx.fetchrow(_SELECT + f" WHERE d.tenant = $1 AND d.id = $2 AND {visible}", *p.values)
    if row is None:
        raise NotFound("No document with this id")
    return await _read(storage, row)


async def list_documents(
    scope: TenantScope,
    storage: Storage,
    *,
    subject_type: str | None = None,
    subject_id: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[DocumentRead]:
    """Newest first; filter by subject (type and id) and kind."""
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        p = Params(
            scope.tenant_id,
            subject_type,
            subject_id,
            kind,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
        visible = await document_visible_sql(tx, scope, p)
        rows = await tx.fetch(
            _SELECT + " WHERE d.tenant = $1 AND ($2::text IS NULL OR d.subject_type = $2)"
            " AND ($3::text IS NULL OR d.subject_id = $3) AND ($4::text IS NULL OR d.kind = $4)"
            " AND ($5::timestamptz IS NULL OR (d.created_at, d.id) < ($5, $6::uuid))"
            f" AND {visible} ORDER BY d.created_at DESC, d.id DESC LIMIT $7",
            *p.values,
        )
    items = [await _read(storage, r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)
