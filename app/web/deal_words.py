"""What the deal pages say about a deal's codes — stages, roles, quote and collection states, units —
in the member's words, and how they show money; shared by the board, the deal page and the quote
builder. Codes come from the deals domain (``app.deals.stages``, ``app.deals.schemas``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from app.deals.stages import OPEN_STAGES, TERMINAL
from app.errors import ValidationFailed
from app.i18n import N_

STAGES = {
    "prospect_list": N_("Prospect list"),
    "first_visit": N_("First visit"),
    "exchange_research": N_("Exchange & research"),
    "demo": N_("Targeted demo"),
    "formal_quote": N_("Formal quote"),
    "objections_cleared": N_("Objections cleared"),
    "negotiation": N_("Negotiation"),
    "signed": N_("Signed"),
    "won": N_("Won"),
    "lost": N_("Lost"),
}
ALL_STAGES = (*OPEN_STAGES, *TERMINAL)
ROLES = {
    "approver": N_("Approver"),
    "decision_maker": N_("Decision maker"),
    "influencer": N_("Influencer"),
    "gatekeeper": N_("Gatekeeper"),
    "user": N_("User"),
    "other": N_("Other"),
}
QUOTE_STATUS = {
    "draft": N_("Draft"),
    "pending": N_("Waiting for approval"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "sent": N_("Sent"),
}
ROUND_NAMES = {"list": N_("List price"), "discount": N_("Discount"), "final": N_("Final")}
UNITS = {
    "seat": N_("Seats"),
    "licence": N_("Licences"),
    "module": N_("Modules"),
    "service_day": N_("Service days"),
    "maintenance_year": N_("Maintenance years"),
}
MILESTONES = {
    "full": N_("Full payment after installation"),
    "deposit": N_("Deposit at signing"),
    "delivery": N_("After delivery and installation"),
    "balance": N_("Balance after stable running"),
}
COLLECTION_STATUS = {"open": N_("Awaiting payment"), "overdue": N_("Overdue"), "paid": N_("Paid")}
VERDICTS = {
    "allowed": N_("Move"),
    "approval": N_("needs approval"),
    "forbidden": N_("not allowed"),
    "needs_quote": N_("needs an approved quote"),
    "terminal": N_("not allowed"),
    "same": N_("not allowed"),
}
_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """``¥12,345.00``: the currency's symbol (its code where it has none here) and two decimals."""
    if amount is None:
        return ""
    text = f"{amount:,.2f}"
    if not currency:
        return text
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def words() -> dict[str, Any]:
    """The template context every deal page gets: the labels above and ``money``."""
    return {
        "stages": STAGES,
        "open_stages": OPEN_STAGES,
        "roles": ROLES,
        "quote_status": QUOTE_STATUS,
        "round_names": ROUND_NAMES,
        "units": UNITS,
        "milestone_names": MILESTONES,
        "collection_status": COLLECTION_STATUS,
        "verdicts": VERDICTS,
        "money": money,
    }


def form_value(form: Any, name: str) -> str:
    value = form.get(name)
    return str(value).strip() if value is not None else ""


def convert(body: dict[str, Any], kind: type[Any]) -> Any:
    """A form's body as the API's schema: the schema's own checks refuse it (422 on the field)."""
    try:
        return msgspec.convert(body, kind, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = text.rsplit("at `$.", 1)[-1].rstrip("`") if "at `$." in text else "form"
        raise ValidationFailed.field(field, "Check this field") from None
