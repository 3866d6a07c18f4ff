"""The company's document templates (``/settings/templates``, admins and owners): upload a ``.docx``
as a new version (multipart, htmx); a refused file shows each validation finding at its place — the
part of the document (body, a header, a footer …), the paragraph, and that paragraph's text with the
offending tag marked — and nothing is stored; the versions, filtered by kind and language, with
activate / deactivate (one active version per kind and language) and a preview with the kind's sample
data (a document rendered like any other, followed on its page).

Everything is the templates' services (``upload``, ``list_templates``, ``set_active``, ``preview``,
``list_kinds``): they require the admin role, so a rep gets their 403."""

from __future__ import annotations

import asyncio
import re
import zipfile
from dataclasses import dataclass
from io import BytesIO
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template
from lxml import etree

from app import i18n
from app.documents import kinds, templates
from app.documents.schemas import TemplateRead
from app.documents.validation import MAX_FILE
from app.errors import ValidationFailed
from app.i18n import N_
from app.web.documents import helpers, storage
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.scope import TenantScope

PAGE_SIZE = 20
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
_PART = re.compile(r"^word/(document|header(\d*)|footer(\d*)|footnotes|endnotes)\.xml$")
MAX_PART = (
    20 * 1024 * 1024
)  # a text part read back for the findings' excerpts (the file passed the size checks)
EXCERPT = 240
M_BODY = N_("Body")
M_HEADER = N_("Header {n}")
M_FOOTER = N_("Footer {n}")
M_FOOTNOTES = N_("Footnotes")
M_ENDNOTES = N_("Endnotes")
M_WHERE = N_("{part}, paragraph {n}")
M_NO_FILE = N_("Choose a .docx file")


@dataclass
class UploadForm:
    kind: str
    locale: str
    file: UploadFile


def part_label(part: str | None, locale: str) -> str | None:
    """A part of the .docx in words: Body, Header 1, Footer 2 … (other parts by their name)."""
    if part is None:
        return None
    match = _PART.match(part)
    if not match:
        return part
    name = match.group(1)
    if name == "document":
        return i18n.translate(locale, M_BODY)
    if name.startswith("header"):
        return i18n.translate(locale, M_HEADER, n=match.group(2) or "1")
    if name.startswith("footer"):
        return i18n.translate(locale, M_FOOTER, n=match.group(3) or "1")
    return i18n.translate(locale, M_FOOTNOTES if name == "footnotes" else M_ENDNOTES)


def paragraph_texts(data: bytes, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The text of each wanted (part, paragraph index) of the .docx: ``w:p`` elements of the part in
    document order from 0, a nested paragraph's text (a text box) its own only — as validation counts."""
    found: dict[tuple[str, int], str] = {}
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        for part in sorted({p for p, _ in wanted}):
            if not _PART.match(part) or archive.getinfo(part).file_size > MAX_PART:
                continue
            root = etree.fromstring(archive.read(part), _PARSER)
            paragraphs = list(root.iter(W + "p"))
            for p, number in wanted:
                if p != part or not 0 <= number < len(paragraphs):
                    continue
                paragraph = paragraphs[number]
                texts = [
                    t.text or ""
                    for t in paragraph.iter(W + "t")
                    if next(t.iterancestors(W + "p"), None) is paragraph
                ]
                found[(p, number)] = "".join(texts)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, etree.XMLSyntaxError):
        return found
    return found


def _excerpt(text: str, hit: str | None) -> dict[str, str]:
    """The paragraph around ``hit`` (marked), at most ``EXCERPT`` characters either side."""
    at = text.find(hit) if hit else -1
    if at < 0:
        return {"before": text[: EXCERPT * 2], "hit": "", "after": "…" if len(text) > EXCERPT * 2 else ""}
    start = max(at - EXCERPT, 0)
    end = at + len(hit or "")
    return {
        "before": ("…" if start else "") + text[start:at],
        "hit": text[at:end],
        "after": text[end : end + EXCERPT] + ("…" if len(text) > end + EXCERPT else ""),
    }


def findings_view(exc: ValidationFailed, data: bytes, locale: str) -> list[dict[str, Any]]:
    """The service's findings in the member's words, each with its place and excerpt."""
    raw = exc.extra.get("findings") or []
    messages = exc.extra.get("errors") or []
    wanted = {(f["part"], f["paragraph"]) for f in raw if f.get("part") and f.get("paragraph") is not None}
    texts = paragraph_texts(data, wanted) if wanted else {}
    shown = []
    for f, error in zip(raw, messages, strict=False):
        part = part_label(f.get("part"), locale)
        number = f.get("paragraph")
        params = dict(f.get("params") or {})
        if "part" in params and part:
            params["part"] = part
        if number is not None and "paragraph" in params:
            params["paragraph"] = number + 1  # people count paragraphs from 1
        where = part
        if part and number is not None:
            where = i18n.translate(locale, M_WHERE, part=part, n=number + 1)
        text = texts.get((f.get("part"), number)) if number is not None else None
        hit = params.get("tag") or params.get("name")
        shown.append(
            {
                "code": f["code"],
                "message": i18n.translate(locale, error["message"], **params),
                "where": where,
                "excerpt": _excerpt(text, str(hit) if hit else None) if text else None,
            }
        )
    return shown


def _kinds(scope: TenantScope) -> list[tuple[str, str]]:
    return [(k.name, k.title.get(scope.locale, k.name)) for k in templates.list_kinds()]


def _filters(request: Request[Any, Any, Any]) -> dict[str, str]:
    chosen = {k: v for k in ("kind", "locale") if (v := request.query_params.get(k, "").strip())}
    if chosen.get("kind") not in (None, *kinds.KINDS):
        chosen.pop("kind")
    if chosen.get("locale") not in (None, *kinds.LOCALES):
        chosen.pop("locale")
    return chosen


@get("/settings/templates")
async def templates_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    chosen = _filters(request)
    page = await templates.list_templates(
        tenant_scope,
        kind=chosen.get("kind"),
        locale=chosen.get("locale"),
        limit=PAGE_SIZE,
        cursor=request.query_params.get("cursor") or None,
    )
    context: dict[str, Any] = {
        "page": page,
        "chosen": chosen,
        "more_query": "&".join(f"{k}={v}" for k, v in chosen.items()),
        "kinds_offered": _kinds(tenant_scope),
        **helpers(tenant_scope),
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, tenant_scope, "app/_template_items.html", **context)
    return await render(request, tenant_scope, "app/templates.html", **context)


# The body limit sits above the file limit so an oversized file gets the service's finding, not a 413.
@post("/settings/templates", request_max_body_size=MAX_FILE + 1024 * 1024)
async def upload(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template:
    """The upload's answer (htmx): the new version (inactive) at the top of the list, or the findings."""
    content = await data.file.read(MAX_FILE + 1)
    if not content:
        raise ValidationFailed.field("file", M_NO_FILE)
    try:
        made = await templates.upload(
            tenant_scope,
            storage(request),
            kind=data.kind,
            locale=data.locale,
            filename=data.file.filename or "",
            data=content,
        )
    except ValidationFailed as exc:
        if not exc.extra.get("findings"):
            raise
        shown = await asyncio.to_thread(findings_view, exc, content, tenant_scope.locale)
        return await render(
            request,
            tenant_scope,
            "app/_template_findings.html",
            status_code=422,
            findings=shown,
            count=len(shown),
            filename=data.file.filename or "",
        )
    return await render(request, tenant_scope, "app/_template_uploaded.html", t=made, **helpers(tenant_scope))


async def _switched(request: Request[Any, Any, Any], scope: TenantScope, changed: TemplateRead) -> Template:
    """Activation changes its siblings too: every version of its kind and language, swapped in place."""
    siblings = await templates.list_templates(scope, kind=changed.kind, locale=changed.locale, limit=100)
    return await render(
        request, scope, "app/_template_switched.html", t=changed, siblings=siblings.items, **helpers(scope)
    )


@post("/settings/templates/{template_id:uuid}/activate")
async def activate(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], template_id: FromPath[UUID]
) -> Template:
    changed = await templates.set_active(tenant_scope, template_id, True)
    return await _switched(request, tenant_scope, changed)


@post("/settings/templates/{template_id:uuid}/deactivate")
async def deactivate(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], template_id: FromPath[UUID]
) -> Template:
    changed = await templates.set_active(tenant_scope, template_id, False)
    return await _switched(request, tenant_scope, changed)


@post("/settings/templates/{template_id:uuid}/preview")
async def preview(tenant_scope: NamedDependency[TenantScope], template_id: FromPath[UUID]) -> Response[Any]:
    """Render this version with the kind's sample data; its page follows the render and shows it."""
    accepted = await templates.preview(tenant_scope, template_id)
    return Response("", status_code=200, headers={"HX-Redirect": f"/documents/{accepted.id}"})


ROUTER = Router(
    path="/",
    route_handlers=[templates_page, upload, activate, deactivate, preview],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
