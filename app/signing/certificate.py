"""The certificate of completion: the pages appended to a signed PDF before it is sealed, stating for a
reader who has only the file (the customer, a lawyer, a court) what was signed, by whom, how and when,
and how to check it:

- the document: its title, the envelope, the company and the sender, when it was sent and completed;
- the SHA-256 of the original (the PDF sent for signature) and of the signed document (those pages
  with the signatures placed, before this certificate was appended; the envelope's ``completed``
  evidence event records it too). The sealed file's own digest cannot be written inside it: ``/verify``
  checks the seal over the whole file;
- the evidence chain's head when sealing: its hash and number of events, the whole chain recomputed
  first (a chain that does not verify is never certified: ``gather`` raises ``BrokenChain``);
- one table per signer: name, email, method, when their link was sent, when they first viewed, consented
  and signed (local time in the tenant's zone with the UTC offset), the IP address and user agent of the
  signing request, and the version of the consent text they agreed to;
- the consent texts agreed to, each in the language it was shown in;
- the address of ``/verify``, as text and as a QR code.

Labels are in the sender's language. It is built as DOCX and converted by the documents' LibreOffice
converter, which embeds a subset of the CJK font (a CJK font left out of the PDF renders nowhere without
a language pack)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from docx import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from PIL import Image
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel

from app import i18n
from app.db import Tx
from app.i18n import N_
from app.localtime import local_stamp
from app.signing import consent, evidence
from app.signing.pdfwork import CJK_FONT

MONO_FONT = "Noto Sans Mono CJK SC"  # hashes: one line each, every character as wide as the next
QR_BORDER = 4  # modules of quiet zone around the code, as the QR standard asks
QR_SCALE = 8  # pixels per module of the code's image

LABELS = {
    "title": N_("Certificate of completion"),
    "intro": N_(
        "This certificate records how the document was signed electronically through Acre. Times are"
        " local time in {zone}, with their offset from UTC."
    ),
    "document": N_("Document"),
    "envelope": N_("Envelope"),
    "company": N_("Company"),
    "sender": N_("Sent by"),
    "sent": N_("Sent for signature"),
    "completed": N_("Completed"),
    "original": N_("SHA-256 of the original"),
    "signed_document": N_("SHA-256 of the signed document"),
    "signed_note": N_(
        "The signed document is the pages above with the signatures, before this certificate was added;"
        " the sealed file's own SHA-256 cannot be written inside it: the verification below checks it."
    ),
    "events": N_("Evidence events"),
    "verified": N_("{n}, the whole chain recomputed and verified"),
    "head": N_("Evidence chain head (SHA-256)"),
    "signer": N_("Signer {n}"),
    "name": N_("Name"),
    "email": N_("Email"),
    "method": N_("Signature method"),
    "typed": N_("Typed name"),
    "drawn": N_("Drawn"),
    "notified": N_("Link sent"),
    "viewed": N_("Viewed"),
    "consented": N_("Consented to sign electronically"),
    "signed": N_("Signed"),
    "ip": N_("IP address"),
    "agent": N_("Browser (user agent)"),
    "consent": N_("Consent text"),
    "consent_heading": N_("Consent to sign electronically, version {version} ({language})"),
    "verify": N_("Verify this document"),
    "verify_how": N_(
        "Upload this PDF at {url} (or scan the code) to check its seal: any change made after sealing is"
        " detected."
    ),
    "footer": N_("This document is sealed by Acre; any change after sealing is detectable."),
}


class BrokenChain(Exception):
    """The envelope's evidence chain does not verify (an entry was changed, removed or inserted)."""


@dataclass(frozen=True)
class Facts:
    """What the certificate states beyond the envelope's and its signers' rows."""

    company: str
    time_zone: str
    events: int
    head_hash: str
    consents: dict[UUID, tuple[str, str | None]]  # signer id -> (consent version, language shown)


async def gather(tx: Tx, envelope_id: UUID) -> Facts:
    """Read the facts in ``tx`` (the envelope's tenant). Raises ``BrokenChain`` when the evidence chain
    does not verify, or is empty."""
    check = await evidence.verify_chain(tx, envelope_id)
    if not check.ok or check.head_hash is None:
        raise BrokenChain(f"envelope {envelope_id}: evidence breaks at event {check.first_broken_seq}")
    tenant = await tx.fetchrow("SELECT name, time_zone FROM tenants WHERE id = $1", tx.tenant_id)
    assert tenant is not None
    rows = await tx.fetch(
        "SELECT signer_id, data FROM envelope_events WHERE tenant = $1 AND envelope_id = $2"
        " AND event = 'consented' ORDER BY seq",
        tx.tenant_id,
        envelope_id,
    )
    consents: dict[UUID, tuple[str, str | None]] = {}
    for row in rows:
        data = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        consents[row["signer_id"]] = (str(data.get("esign_consent", consent.VERSION)), data.get("locale"))
    return Facts(tenant["name"], tenant["time_zone"], check.checked, check.head_hash, consents)


def qr_png(text: str) -> bytes:
    """``text`` as a QR code (error correction M), black on white, ``QR_SCALE`` pixels per module and
    a ``QR_BORDER``-module quiet zone, as a 1-bit PNG (kept lossless in the PDF)."""
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    modules: list[list[Any]] = code.modules
    size = len(modules) + 2 * QR_BORDER
    image = Image.new("1", (size, size), 1)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                image.putpixel((x + QR_BORDER, y + QR_BORDER), 0)
    image = image.resize((size * QR_SCALE, size * QR_SCALE), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _cell_font(cell: Any, font: str, size: float) -> None:
    for paragraph in cell.paragraphs:
        for run in paragraph.runs:
            run.font.name = font
            run.font.size = Pt(size)
            run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def _table(doc: Any, rows: Sequence[tuple[str, str, bool]]) -> None:
    """A two-column table (label, value) kept on one page; ``True`` in a row sets its value in the
    monospaced font (hashes)."""
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    table.columns[0].width, table.columns[1].width = Cm(5.4), Cm(11.6)
    for label, value, mono in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value or "—"
        cells[0].width, cells[1].width = Cm(5.4), Cm(11.6)
        if mono:
            _cell_font(cells[1], MONO_FONT, 8.5)
        for paragraph in (*cells[0].paragraphs, *cells[1].paragraphs):
            paragraph.paragraph_format.keep_with_next = True
            paragraph.paragraph_format.space_after = Pt(0)
    doc.add_paragraph()


def build_docx(
    env: Any,
    signers: Sequence[Any],
    facts: Facts,
    *,
    signed_sha256: str,
    completed_at: datetime,
    verify_url: str,
) -> bytes:
    """The certificate as DOCX, labelled in the envelope's sender's language."""
    locale = env["sender_locale"]

    def t(key: str, **params: Any) -> str:
        return i18n.translate(locale, LABELS[key], **params)

    def when(value: datetime | None) -> str:
        return local_stamp(value, facts.time_zone) if value else ""

    doc = DocxDocument()
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2)
        section.top_margin = section.bottom_margin = Cm(1.8)
    normal = doc.styles["Normal"]
    normal.font.name = CJK_FONT
    normal.font.size = Pt(9)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CJK_FONT)
    doc.add_heading(t("title"), level=1)
    doc.add_paragraph(t("intro", zone=facts.time_zone))
    email = f"<{env['sender_email']}>" if env["sender_email"] else ""
    sender = " ".join(part for part in (env["sender_name"], email) if part)
    _table(
        doc,
        [
            (t("document"), env["title"], False),
            (t("envelope"), str(env["id"]), False),
            (t("company"), facts.company, False),
            (t("sender"), sender, False),
            (t("sent"), when(env["sent_at"]), False),
            (t("completed"), when(completed_at), False),
            (t("original"), env["original_sha256"].strip(), True),
            (t("signed_document"), signed_sha256, True),
            (t("events"), t("verified", n=facts.events), False),
            (t("head"), facts.head_hash, True),
        ],
    )
    doc.add_paragraph(t("signed_note"))
    agreed: dict[tuple[str, str], None] = {}
    for number, s in enumerate(signers, start=1):
        version, shown_in = facts.consents.get(s["id"], (consent.VERSION, None))
        language = i18n.normalize(shown_in or s["locale"])
        agreed[(version, language)] = None
        typed = f"{t('typed')}: {s['typed_name'] or s['name']}"
        method = t("drawn") if s["signature_kind"] == "drawn" else typed
        doc.add_heading(t("signer", n=number), level=2).paragraph_format.keep_with_next = True
        _table(
            doc,
            [
                (t("name"), s["name"], False),
                (t("email"), s["email"], False),
                (t("method"), method, False),
                (t("notified"), when(s["notified_at"]), False),
                (t("viewed"), when(s["viewed_at"]), False),
                (t("consented"), when(s["consented_at"]), False),
                (t("signed"), when(s["signed_at"]), False),
                (t("ip"), s["ip"] or "", False),
                (t("agent"), s["user_agent"] or "", False),
                (t("consent"), f"{version} ({language})", False),
            ],
        )
    for version, language in agreed:
        doc.add_heading(t("consent_heading", version=version, language=language), level=2)
        doc.add_paragraph(consent.text(version, language, facts.company))
    doc.add_heading(t("verify"), level=2).paragraph_format.keep_with_next = True
    doc.add_paragraph(t("verify_how", url=verify_url)).paragraph_format.keep_with_next = True
    doc.add_picture(io.BytesIO(qr_png(verify_url)), width=Cm(3.2))
    doc.add_paragraph(t("footer"))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
