"""The catalogue of document kinds: for each kind, the variables its templates may use, with sample
data (realistic Chinese companies and people, 30 product lines for contracts and quotes).

The catalogue is the single source of truth for validation (an uploaded template may only use these
variables), previews (rendered with the sample) and ``doc_templates/README.md``. Every value a
template prints is a preformatted string (money, dates): templates never compute. Which values a
document cannot do without is the template's to say (``validation.needed_variables``), not the
kind's; ``blank_paths`` finds those a document's data leaves blank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from app.documents import samples
from app.documents.samples import TITLES, amount_in_words, money
from app.errors import ValidationFailed
from app.i18n import N_

LOCALES = ("zh-CN", "en")
Data = samples.Data
__all__ = [
    "KINDS",
    "LOCALES",
    "Kind",
    "amount_in_words",
    "blank",
    "blank_paths",
    "check_kind",
    "check_locale",
    "money",
    "sample",
    "variables",
]


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    title: dict[str, str]  # locale → the document type's name, as printed on covers
    sample: Callable[[str], Data]


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("contract", TITLES["contract"], samples.contract),
        Kind("proposal_requirements", TITLES["proposal_requirements"], samples.requirements),
        Kind("proposal_product", TITLES["proposal_product"], samples.product),
        Kind("proposal_pricing", TITLES["proposal_pricing"], samples.pricing),
        Kind("quote", TITLES["quote"], samples.quote),
        Kind("handover", TITLES["handover"], samples.handover),
        Kind("acceptance", TITLES["acceptance"], samples.acceptance),
    )
}


UNKNOWN_KIND = N_("Unknown document kind {kind}")
UNKNOWN_LOCALE = N_("Use zh-CN or en")


def check_kind(kind: str) -> None:
    """422 on ``kind`` unless it is in the catalogue."""
    if kind not in KINDS:
        raise ValidationFailed.field("kind", UNKNOWN_KIND, kind=kind)


def check_locale(locale: str) -> str:
    """``locale`` when templates exist in it; else 422 on ``locale``."""
    if locale not in LOCALES:
        raise ValidationFailed.field("locale", UNKNOWN_LOCALE)
    return locale


def sample(kind: str, locale: str) -> Data:
    return KINDS[kind].sample(locale)


def blank(value: Any) -> Any:
    """The sample's shape with every leaf emptied: the base a subject provider overlays."""
    if isinstance(value, dict):
        return {k: blank(v) for k, v in value.items()}
    if isinstance(value, list):
        return []
    return ""


def variables(kind: str) -> dict[str, str]:
    """Every dotted path a template of ``kind`` may use → ``"text"``, ``"list"`` or ``"object"``.
    List items are ``name[].field``."""
    out: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            if prefix:
                out[prefix] = "object"
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else key, sub)
        elif isinstance(value, list):
            out[prefix] = "list"
            if value:
                walk(prefix + "[]", value[0])
        else:
            out[prefix] = "text"

    walk("", sample(kind, "en"))
    return out


def blank_paths(paths: Iterable[str], data: Data) -> list[str]:
    """Those of ``paths`` (dotted, no list items) that are missing or blank in ``data``, in order."""
    missing = []
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or not str(value).strip():
            missing.append(path)
    return missing
