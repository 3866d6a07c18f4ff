"""Tenants' own templates: upload (validated, versioned, stored under a fixed key with its sha256 and
the values it cannot do without, ``validation.needed_variables``), list, get, activate (one active
version per kind and locale), deactivate (back to the built-in default), preview (rendered with the
kind's sample data through the normal document path). Admins and owners only."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any
from uuid import UUID

import asyncpg

from app import audit
from app.documents import kinds
from app.documents.schemas import DocumentAccepted, DocumentCreate, KindRead, TemplateRead
from app.documents.service import create_document
from app.documents.validation import default_needs, needed_variables, validate_template
from app.errors import NotFound, ValidationFailed
from app.i18n import N_
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.storage import Storage
from tenants.scope import TenantScope

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
M_PROBLEMS = N_("The template has {count} problem(s); see findings")
_COLUMNS = (
    "id, kind, locale, version, filename, sha256, size_bytes, active, uploaded_by, created_at, activated_at"
)


def template_key(tenant_id: UUID, kind: str, locale: str, version: int) -> str:
    return f"templates/{tenant_id}/{kind}/{locale}/{version}.docx"


def list_kinds() -> list[KindRead]:
    return [
        KindRead(
            name=k.name,
            title=k.title,
            variables=kinds.variables(k.name),
            required=sorted({p for locale in kinds.LOCALES for p in default_needs(k.name, locale)}),
            sample=kinds.sample(k.name, "zh-CN"),
        )
        for k in kinds.KINDS.values()
    ]


def _read(row: asyncpg.Record) -> TemplateRead:
    return TemplateRead(**{k: (v.strip() if k == "sha256" else v) for k, v in dict(row).items()})


def _problems(findings: list[Any]) -> ValidationFailed:
    return ValidationFailed(
        M_PROBLEMS,
        count=len(findings),
        extra={
            "errors": [{"field": "file", "message": f.message, "params": f.params} for f in findings],
            "findings": [
                {"code": f.code, "part": f.part, "paragraph": f.paragraph, "params": f.params}
                for f in findings
            ],
        },
    )


async def upload(
    scope: TenantScope, storage: Storage, *, kind: str, locale: str, filename: str, data: bytes
) -> TemplateRead:
    """Validate and store a new version (inactive until activated). 422 lists every finding."""
    scope.require("admin")
    kinds.check_kind(kind)
    kinds.check_locale(locale)
    findings = await asyncio.to_thread(validate_template, data, kind)
    if findings:
        raise _problems(findings)
    needs = await asyncio.to_thread(needed_variables, data, kind)
    digest = hashlib.sha256(data).hexdigest()
    async with scope.tx() as tx:
        # Versions are numbered per kind and locale: serialise concurrent uploads of the same pair.
        await tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{scope.tenant_id}:{kind}:{locale}")
        version = await tx.fetchval(
            "SELECT coalesce(max(version), 0) + 1 FROM document_templates"
            " WHERE tenant = $1 AND kind = $2 AND locale = $3",
            scope.tenant_id,
            kind,
            locale,
        )
        key = template_key(scope.tenant_id, kind, locale, version)
        row = await tx.fetchrow(
            "INSERT INTO document_templates (tenant, kind, locale, version, filename, storage_key, sha256,"
            " size_bytes, uploaded_by, needs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)"
            f" RETURNING {_COLUMNS}",
            scope.tenant_id,
            kind,
            locale,
            version,
            filename[:255] or f"{kind}.docx",
            key,
            digest,
            len(data),
            scope.membership_id,
            json.dumps(needs),
        )
        assert row is not None
        # Stored before commit: if the commit fails, the orphan object sits at the key the next upload
        # of this version number overwrites.
        await storage.put(key, data, DOCX_TYPE)
        await audit.record(
            tx,
            scope.user_id,
            "template.uploaded",
            "document_template",
            row["id"],
            data={"kind": kind, "locale": locale, "version": version, "sha256": digest},
        )
        return _read(row)


async def list_templates(
    scope: TenantScope,
    *,
    kind: str | None = None,
    locale: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[TemplateRead]:
    scope.require("admin")
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        rows = await tx.fetch(
            f"SELECT {_COLUMNS} FROM document_templates WHERE tenant = $1"
            " AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR locale = $3)"
            " AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))"
            " ORDER BY created_at DESC, id DESC LIMIT $6",
            scope.tenant_id,
            kind,
            locale,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
    items = [_read(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def get_template(scope: TenantScope, template_id: UUID) -> TemplateRead:
    scope.require("admin")
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            f"SELECT {_COLUMNS} FROM document_templates WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            template_id,
        )
    if row is None:
        raise NotFound("No template with this id")
    return _read(row)


async def set_active(scope: TenantScope, template_id: UUID, active: bool) -> TemplateRead:
    """Activate this version (the previously active one of its kind and locale is deactivated in the
    same transaction), or deactivate it (documents then use the built-in default)."""
    scope.require("admin")
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            f"SELECT {_COLUMNS} FROM document_templates WHERE tenant = $1 AND id = $2 FOR UPDATE",
            scope.tenant_id,
            template_id,
        )
        if row is None:
            raise NotFound("No template with this id")
        await tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", f"{scope.tenant_id}:{row['kind']}:{row['locale']}"
        )
        if active:
            await tx.execute(
                "UPDATE document_templates SET active = false WHERE tenant = $1 AND kind = $2 AND locale = $3"
                " AND active AND id <> $4",
                scope.tenant_id,
                row["kind"],
                row["locale"],
                template_id,
            )
        row = await tx.fetchrow(
            "UPDATE document_templates SET active = $3, activated_at = CASE WHEN $3 THEN now() END"
            f" WHERE tenant = $1 AND id = $2 RETURNING {_COLUMNS}",
            scope.tenant_id,
            template_id,
            active,
        )
        await audit.record(
            tx,
            scope.user_id,
            "template.activated" if active else "template.deactivated",
            "document_template",
            template_id,
        )
        assert row is not None
        return _read(row)


async def preview(scope: TenantScope, template_id: UUID) -> DocumentAccepted:
    """Render this version with the kind's sample data, as a document (asynchronously, 202). The same
    version previews once: asking again answers the same document."""
    template = await get_template(scope, template_id)
    return await create_document(
        scope,
        DocumentCreate(
            kind=template.kind,
            subject_type="sample",
            subject_id=str(template.id),
            locale=template.locale,
            template_version_id=template.id,
            idempotency_key=f"preview:{template.id}",
        ),
    )
