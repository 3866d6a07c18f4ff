"""What a document variable is called where people read it: ``party_a.contact`` → 甲方联系人 /
"Party A contact". Used to name the values a document is refused for (never the dotted path).

A label is the block's name and the field's (``{block} {field}``; zh-CN writes them together), or a
whole label where that reads better; message ids are English, translated by the Babel catalog.
``tests/unit/test_document_labels.py`` fails when a text variable of any kind has no label.
"""

from __future__ import annotations

from app.i18n import N_, translate

BLOCKS = {
    "party_a": N_("Party A"),
    "party_b": N_("Party B"),
    "company": N_("Our company"),
    "customer": N_("Customer"),
    "author": N_("Author"),
    "contact": N_("Contact person"),
    "contract": N_("Contract"),
    "quote": N_("Quote"),
    "proposal": N_("Proposal"),
    "handover": N_("Handover"),
    "acceptance": N_("Acceptance"),
    "summary": N_("Summary"),
}
FIELDS = {
    "full_name": N_("full legal name"),
    "name": N_("name"),
    "short_name": N_("short name"),
    "address": N_("address"),
    "contact": N_("contact"),
    "phone": N_("phone"),
    "email": N_("email"),
    "website": N_("website"),
    "tax_id": N_("unified social credit code"),
    "bank": N_("bank"),
    "account": N_("bank account"),
    "industry": N_("industry"),
    "title": N_("job title"),
    "hotline": N_("service hotline"),
    "response_hours": N_("response time (hours)"),
    "logo": N_("logo"),
    "seal": N_("seal"),
    "number": N_("number"),
    "date": N_("date"),
    "place": N_("place of signing"),
    "currency": N_("currency"),
    "valid_until": N_("valid until"),
    "round": N_("round"),
    "type": N_("type"),
    "version": N_("version"),
    "from_rep": N_("handed over by"),
    "manager": N_("approved by"),
    "reason": N_("reason"),
    "territory": N_("territory"),
    "customers": N_("customers"),
    "open_deals": N_("open deals"),
}
WHOLE = {
    "author.name": N_("Author's name"),
    "contact.name": N_("Contact person's name"),
    "proposal.title": N_("Proposal title"),
    "acceptance.title": N_("Project accepted"),
    "totals.subtotal": N_("List price total"),
    "totals.discount": N_("Discount"),
    "totals.tax": N_("Tax"),
    "totals.total": N_("Total"),
    "totals.total_in_words": N_("Total in words"),
    "totals.currency": N_("Currency"),
    "totals.tax_note": N_("Tax note"),
    "maintenance.free_upgrade_years": N_("Free upgrade period (years)"),
    "maintenance.onsite_fee": N_("On-site service fee"),
    "maintenance.hotline": N_("Service hotline"),
    "maintenance.response_hours": N_("Response time (hours)"),
    "background": N_("Background"),
    "scope": N_("Scope"),
    "services": N_("Services"),
    "terms": N_("Terms"),
    "validity": N_("Validity"),
    "payment_terms": N_("Payment terms"),
}
M_LABEL = N_("{block} {field}")


def has_label(path: str) -> bool:
    block, _, name = path.rpartition(".")
    return path in WHOLE or (block in BLOCKS and name in FIELDS)


def label(path: str, locale: str) -> str:
    """The label of a text variable in ``locale`` (a path without one: its last part, as a last
    resort that the labels test keeps from happening)."""
    if path in WHOLE:
        return translate(locale, WHOLE[path])
    block, _, name = path.rpartition(".")
    if block in BLOCKS and name in FIELDS:
        return translate(
            locale, M_LABEL, block=translate(locale, BLOCKS[block]), field=translate(locale, FIELDS[name])
        )
    return name.replace("_", " ")


def join(labels: list[str], locale: str) -> str:
    """``甲方联系人、乙方开户银行`` / ``Party A contact, Party B bank``."""
    return ("、" if locale == "zh-CN" else ", ").join(labels)
