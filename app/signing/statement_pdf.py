"""What a rep statement says, and the statement as DOCX (converted to PDF by the documents' LibreOffice
converter, which embeds a subset of the CJK font, then sealed like a contract).

A statement lists every ledger entry from or to one member in a period, oldest first: its sequence
number, when, the customer, what happened from the member's side (claimed, released, reclaimed to the
pool, handed over in or out, assigned in or out) and the other party; then the counts per kind, the
chain's head when issued, and the anchor that covers the last entry (or, while none does yet, the newest
anchor) — its timestamp, the anchored entry and hash, and the sha256 of the TSA's token. Commission
disputes are settled from it: each line can be found in the ledger by its sequence number, and the
anchor shows that the ledger it came from was not rewritten afterwards."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from docx import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from app import i18n
from app.db import Tx
from app.i18n import N_
from app.localtime import local_stamp
from app.signing.pdfwork import CJK_FONT

MONO_FONT = "Noto Sans Mono CJK SC"

# (cause, direction) -> the member's side of the change
KINDS = {
    ("claim", "in"): N_("Claimed from the pool"),
    ("release", "out"): N_("Released to the pool"),
    ("reclaim", "out"): N_("Reclaimed to the pool"),
    ("handover", "in"): N_("Handed over to you"),
    ("handover", "out"): N_("Handed over to another"),
    ("assign", "in"): N_("Assigned to you"),
    ("assign", "out"): N_("Assigned away"),
    ("import", "in"): N_("Assigned to you"),
    ("import", "out"): N_("Assigned away"),
    ("create", "in"): N_("Assigned to you"),
    ("create", "out"): N_("Assigned away"),
    ("claim", "out"): N_("Claimed by another"),
}

LABELS = {
    "title": N_("Ownership statement"),
    "intro": N_(
        "Every change of customer ownership to or from {name} between {start} and {end}, from the"
        " company's ownership ledger. Times are local time in {zone}."
    ),
    "company": N_("Company"),
    "member": N_("Member"),
    "period": N_("Period"),
    "issued": N_("Issued"),
    "statement": N_("Statement"),
    "seq": N_("No."),
    "when": N_("When"),
    "customer": N_("Customer"),
    "change": N_("Ownership change"),
    "other": N_("From / to"),
    "none": N_("No ownership changes in this period."),
    "totals": N_("Totals"),
    "head": N_("Ledger head when issued"),
    "anchor": N_("Anchor"),
    "anchor_none": N_("The ledger has not been anchored yet."),
    "anchor_covers": N_("Entry {seq}, timestamped {at} by an independent timestamp authority"),
    "anchor_before": N_(
        "Entry {seq}, timestamped {at}; the entries after it are anchored by the next daily anchor"
    ),
    "anchor_hash": N_("Anchored entry hash"),
    "token": N_("SHA-256 of the timestamp token"),
    "verify": N_("This statement is sealed by the company. Check it at {url}"),
    "pool": N_("the pool"),
}


@dataclass
class StatementFacts:
    company: str
    member_name: str
    time_zone: str
    entries: list[dict[str, Any]]
    head_seq: int | None
    head_hash: str | None
    anchor: dict[str, Any] | None
    anchor_covers: bool
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def first_seq(self) -> int | None:
        return self.entries[0]["seq"] if self.entries else None

    @property
    def last_seq(self) -> int | None:
        return self.entries[-1]["seq"] if self.entries else None


_NAME = (
    "(SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id"
    " WHERE m.tenant = h.tenant AND m.id = {})"
)
_ENTRIES = f"""
SELECT h.seq, h.at, h.cause, h.customer_id, c.full_name AS customer,
    CASE WHEN h.to_membership_id = $2 THEN 'in' ELSE 'out' END AS direction,
    CASE WHEN h.to_membership_id = $2 THEN {_NAME.format("h.from_membership_id")}
         ELSE {_NAME.format("h.to_membership_id")} END AS other
FROM customer_ownership_history h
LEFT JOIN customers c ON c.tenant = h.tenant AND c.id = h.customer_id
WHERE h.tenant = $1 AND (h.to_membership_id = $2 OR h.from_membership_id = $2)
    AND h.at >= $3 AND h.at < $4
ORDER BY h.seq
"""


async def gather(
    tx: Tx, membership_id: UUID, start: datetime, end: datetime, time_zone: str
) -> StatementFacts:
    """The member's entries in [start, end), the chain head and the anchor to print."""
    tenant = tx.tenant_id
    rows = [dict(r) for r in await tx.fetch(_ENTRIES, tenant, membership_id, start, end)]
    company = await tx.fetchval("SELECT name FROM tenants WHERE id = $1", tenant) or ""
    member = await tx.fetchval(
        "SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant = $1 AND m.id = $2",
        tenant,
        membership_id,
    )
    head = await tx.fetchrow(
        "SELECT seq, encode(hash, 'hex') AS hash FROM customer_ownership_history WHERE tenant = $1"
        " ORDER BY seq DESC LIMIT 1",
        tenant,
    )
    last = rows[-1]["seq"] if rows else 0
    anchor_sql = (
        "SELECT id, head_seq, encode(head_hash, 'hex') AS head_hash, stamped_at,"
        " encode(sha256(token), 'hex') AS token_sha256 FROM ownership_anchors WHERE tenant = $1"
    )
    anchor = await tx.fetchrow(anchor_sql + " AND head_seq >= $2 ORDER BY head_seq LIMIT 1", tenant, last)
    covers = anchor is not None
    if anchor is None:
        anchor = await tx.fetchrow(anchor_sql + " ORDER BY head_seq DESC LIMIT 1", tenant)
    totals: dict[str, int] = {}
    for r in rows:
        kind = str(KINDS.get((r["cause"], r["direction"])) or r["cause"])
        r["kind"] = kind
        totals[kind] = totals.get(kind, 0) + 1
    return StatementFacts(
        company=str(company),
        member_name=str(member or ""),
        time_zone=time_zone,
        entries=rows,
        head_seq=head["seq"] if head else None,
        head_hash=head["hash"] if head else None,
        anchor=dict(anchor) if anchor else None,
        anchor_covers=covers,
        totals=totals,
    )


def _fonts(cell: Any, font: str, size: float) -> None:
    for paragraph in cell.paragraphs:
        paragraph.paragraph_format.space_after = Pt(0)
        for run in paragraph.runs:
            run.font.name = font
            run.font.size = Pt(size)
            run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def _facts_table(doc: Any, rows: list[tuple[str, str, bool]]) -> None:
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    for label, value, mono in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value or "—"
        cells[0].width, cells[1].width = Cm(5), Cm(12)
        _fonts(cells[0], CJK_FONT, 9)
        _fonts(cells[1], MONO_FONT if mono else CJK_FONT, 8 if mono else 9)
    doc.add_paragraph()


def build_docx(
    facts: StatementFacts,
    *,
    statement_id: UUID,
    locale: str,
    start: datetime,
    end: datetime,
    issued_at: datetime,
    verify_url: str,
) -> bytes:
    """The statement as DOCX in ``locale``."""

    def t(key: str, **params: Any) -> str:
        return i18n.translate(locale, LABELS[key], **params)

    def when(value: datetime) -> str:
        return local_stamp(value, facts.time_zone)

    doc = DocxDocument()
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(1.8)
        section.top_margin = section.bottom_margin = Cm(1.6)
    normal = doc.styles["Normal"]
    normal.font.name = CJK_FONT
    normal.font.size = Pt(9)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CJK_FONT)
    doc.add_heading(t("title"), level=1)
    doc.add_paragraph(
        t("intro", name=facts.member_name, start=when(start), end=when(end), zone=facts.time_zone)
    )
    _facts_table(
        doc,
        [
            (t("company"), facts.company, False),
            (t("member"), facts.member_name, False),
            (t("period"), f"{when(start)} — {when(end)}", False),
            (t("issued"), when(issued_at), False),
            (t("statement"), str(statement_id), True),
        ],
    )
    if facts.entries:
        table = doc.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        for cell, key in zip(
            table.rows[0].cells, ("seq", "when", "customer", "change", "other"), strict=True
        ):
            cell.text = t(key)
            _fonts(cell, CJK_FONT, 8.5)
        for e in facts.entries:
            cells = table.add_row().cells
            values = (
                str(e["seq"]),
                when(e["at"]),
                e["customer"] or str(e["customer_id"]),
                i18n.translate(locale, e["kind"]),
                e["other"] or t("pool"),
            )
            for cell, value in zip(cells, values, strict=True):
                cell.text = value
                _fonts(cell, CJK_FONT, 8.5)
        doc.add_paragraph()
        doc.add_heading(t("totals"), level=2)
        _facts_table(doc, [(i18n.translate(locale, k), str(n), False) for k, n in facts.totals.items()])
    else:
        doc.add_paragraph(t("none"))
    anchor = facts.anchor
    rows = [(t("head"), f"{facts.head_seq or 0} · {facts.head_hash or '—'}", True)]
    if anchor is None:
        rows.append((t("anchor"), t("anchor_none"), False))
    else:
        key = "anchor_covers" if facts.anchor_covers else "anchor_before"
        rows += [
            (t("anchor"), t(key, seq=anchor["head_seq"], at=when(anchor["stamped_at"])), False),
            (t("anchor_hash"), anchor["head_hash"], True),
            (t("token"), anchor["token_sha256"], True),
        ]
    _facts_table(doc, rows)
    doc.add_paragraph(t("verify", url=verify_url))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
