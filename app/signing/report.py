"""One evidence report per signed contract: each link of the chain from the template to the sealed
PDF, recomputed from the stored objects and checked against what was recorded when it was made.

    template (id, version, sha256 of the bytes the render used)
      → data snapshot (sha256 of its canonical JSON)
      → rendered DOCX and PDF (sha256 of the stored objects)
      → the envelope's original (the PDF it was sent with) and its evidence chain (``evidence``)
      → sealed PDF (sha256, the seal's certificate, its timestamp)

A link is ``ok`` when every recomputed value equals the recorded one; the report names the first
link that is not (``broken``). Nothing here writes: the report can be asked for at any time.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from app.documents.rendering import default_template_path
from app.documents.templates import template_key
from app.signing import evidence, seal, service
from app.storage import Storage
from tenants.scope import TenantScope

LINKS = ("template", "data", "docx", "pdf", "original", "evidence", "sealed_pdf", "seal")


class Link(msgspec.Struct):
    name: str
    ok: bool
    recorded: dict[str, Any]
    recomputed: dict[str, Any]
    problem: str | None = None


class EvidenceReport(msgspec.Struct):
    envelope_id: UUID
    document_id: UUID
    title: str
    status: str
    ok: bool
    broken: str | None
    links: list[Link]


def _sha(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _strip(value: str | None) -> str | None:
    return value.strip() if value else None


async def _object(store: Storage, key: str | None) -> bytes | None:
    if not key:
        return None
    try:
        return await store.get(key)
    except Exception:  # a missing object is a broken link, not an error of the report
        return None


def _link(
    name: str, recorded: dict[str, Any], recomputed: dict[str, Any], problem: str | None = None
) -> Link:
    same = all(recomputed.get(k) == v for k, v in recorded.items() if k in recomputed)
    ok = problem is None and same
    if problem is None and not same:
        problem = "recomputed values differ from the recorded ones"
    return Link(name=name, ok=ok, recorded=recorded, recomputed=recomputed, problem=None if ok else problem)


def _timestamp(pdf: bytes) -> datetime | None:
    """The time of the seal's RFC 3161 timestamp token (PAdES B-T), if it has one."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        sigs = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
        token = sigs[-1].attached_timestamp_data if sigs else None
        if token is None:
            return None
        gen_time: datetime = token["encap_content_info"]["content"].parsed["gen_time"].native
        return gen_time
    except Exception:
        return None


async def evidence_report(scope: TenantScope, store: Storage, envelope_id: UUID) -> EvidenceReport:
    """The report of ``envelope_id`` (404 for an envelope the member cannot see)."""
    async with scope.tx() as tx:
        seen = await service.read_envelope(tx, scope, envelope_id, None)
        env = await tx.fetchrow(
            "SELECT * FROM envelopes WHERE tenant = $1 AND id = $2", scope.tenant_id, envelope_id
        )
        doc = await tx.fetchrow(
            "SELECT * FROM documents WHERE tenant = $1 AND id = $2", scope.tenant_id, seen.document_id
        )
        chain = await evidence.verify_chain(tx, envelope_id)
        events = await tx.fetch(
            "SELECT event, data FROM envelope_events WHERE tenant = $1 AND envelope_id = $2 ORDER BY seq",
            scope.tenant_id,
            envelope_id,
        )
        assert env is not None and doc is not None  # read_envelope found it; an envelope has its document
        key = await tx.fetchrow(
            "SELECT cert_pem, cert_sha256 FROM tenant_signing_keys WHERE tenant = $1", scope.tenant_id
        )
        indexed = await tx.fetchval(
            "SELECT cert_sha256 FROM seal_index WHERE tenant = $1 AND envelope_id = $2 LIMIT 1",
            scope.tenant_id,
            envelope_id,
        )
    links = [await _template_link(store, doc, scope.tenant_id)]
    links.append(_data_link(doc))
    docx, pdf = await _object(store, doc["docx_key"]), await _object(store, doc["pdf_key"])
    links.append(_link("docx", {"sha256": _strip(doc["docx_sha256"])}, {"sha256": _sha(docx)}))
    links.append(_link("pdf", {"sha256": _strip(doc["pdf_sha256"])}, {"sha256": _sha(pdf)}))
    original = await _object(store, env["original_key"])
    links.append(
        _link(
            "original",
            {"sha256": _strip(env["original_sha256"]), "document_pdf_sha256": _strip(doc["pdf_sha256"])},
            {"sha256": _sha(original), "document_pdf_sha256": _strip(env["original_sha256"])},
        )
    )
    links.append(_evidence_link(chain, events, env))
    sealed = await _object(store, env["sealed_key"])
    links.append(_link("sealed_pdf", {"sha256": _strip(env["sealed_sha256"])}, {"sha256": _sha(sealed)}))
    links.append(await _seal_link(sealed, key, indexed))
    broken = next((link.name for link in links if not link.ok), None)
    return EvidenceReport(
        envelope_id=envelope_id,
        document_id=doc["id"],
        title=env["title"],
        status=env["status"],
        ok=broken is None,
        broken=broken,
        links=links,
    )


async def _template_link(store: Storage, doc: Any, tenant: UUID | None) -> Link:
    recorded = {
        "id": str(doc["template_id"]) if doc["template_id"] else None,
        "version": doc["template_version"],
        "sha256": _strip(doc["rendered_template_sha256"]),
    }
    if doc["template_id"] is None:  # the shipped template of the kind and locale
        path = default_template_path(doc["kind"], doc["locale"])
        data = await asyncio.to_thread(path.read_bytes) if path.exists() else None
    else:
        assert tenant is not None
        data = await _object(store, template_key(tenant, doc["kind"], doc["locale"], doc["template_version"]))
    problem = None if recorded["sha256"] else "no template sha256 was recorded at render time"
    return _link("template", recorded, {"sha256": _sha(data)}, problem)


def _data_link(doc: Any) -> Link:
    data = doc["data"]
    if data is None:
        return _link("data", {"sha256": _strip(doc["data_sha256"])}, {}, "no data snapshot is stored")
    value = json.loads(data) if isinstance(data, str) else data
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return _link("data", {"sha256": _strip(doc["data_sha256"])}, {"sha256": _sha(text.encode())})


def _evidence_link(chain: evidence.ChainCheck, events: list[Any], env: Any) -> Link:
    """The chain recomputes, its ``created`` event names the original's sha256 and its ``completed``
    event the sealed PDF's."""

    def first(kind: str) -> dict[str, Any]:
        for row in events:
            if row["event"] == kind:
                data: dict[str, Any] = (
                    json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
                )
                return data
        return {}

    recorded = {
        "original_sha256": _strip(env["original_sha256"]),
        "sealed_sha256": _strip(env["sealed_sha256"]),
    }
    recomputed = {
        "original_sha256": first("created").get("original_sha256"),
        "sealed_sha256": first("completed").get("sealed_sha256"),
        "events": chain.checked,
        "head_hash": chain.head_hash,
        "first_broken_seq": chain.first_broken_seq,
    }
    problem = None if chain.ok else "the evidence chain does not recompute"
    return _link("evidence", recorded, recomputed, problem)


async def _seal_link(sealed: bytes | None, key: Any, indexed: str | None) -> Link:
    recorded = {
        "cert_sha256": _strip(indexed),
        "tenant_cert_sha256": _strip(key["cert_sha256"]) if key else None,
    }
    if sealed is None or key is None:
        return _link("seal", recorded, {}, "no sealed PDF" if sealed is None else "no sealing certificate")
    check = await asyncio.to_thread(seal.check_seal, sealed, key["cert_pem"].encode())
    stamp = await asyncio.to_thread(_timestamp, sealed)
    recomputed = {
        "cert_sha256": check.cert_sha256,
        "tenant_cert_sha256": check.cert_sha256,
        "signed_at": check.signed_at.isoformat() if check.signed_at else None,
        "timestamp": stamp.isoformat() if stamp else None,
    }
    problem = None
    if not check.signed:
        problem = "the sealed PDF carries no seal"
    elif not (check.valid and check.covers_whole_file):
        problem = "the seal does not verify over the whole file"
    return _link("seal", recorded, recomputed, problem)
