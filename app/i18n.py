"""One translation mechanism for every user-facing string: Babel ``.po`` catalogs in ``app/locales``.

Message ids are the English text with ``{placeholders}``; ``en`` needs no catalog. The locale is the
user's, else the tenant's, else the request's ``Accept-Language``, else English.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "en"
_CATALOG_DIR = Path(__file__).parent / "locales"


def catalog_files(locale: str) -> list[Path]:
    """A locale's catalogs: ``messages.po`` (the API, mails, shared words) and one file per area of
    the web app (``web_<area>.po``), read together. A message id lives in exactly one of them."""
    return sorted((_CATALOG_DIR / locale.replace("-", "_") / "LC_MESSAGES").glob("*.po"))


def read_catalog(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        catalog = read_po(fh)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


@lru_cache(maxsize=8)
def _catalog(locale: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in catalog_files(locale):
        merged.update(read_catalog(path))
    return merged


def catalog(locale: str | None) -> dict[str, str]:
    """The messages of ``locale`` (empty for English), message id → translation."""
    return _catalog(normalize(locale))


def translate(locale: str | None, message: str, **params: Any) -> str:
    """Translate ``message`` and fill its ``{placeholders}``; unknown locales fall back to English."""
    text = _catalog(normalize(locale)).get(message, message)
    return text.format(**params) if params else text


def N_(message: str) -> str:
    """Mark a message id for translation where it is defined; translate it where it is shown."""
    return message


def normalize(locale: str | None) -> str:
    if not locale:
        return DEFAULT_LOCALE
    low = locale.strip().lower().replace("_", "-")
    if low.startswith("zh"):
        return "zh-CN"
    return "en" if low.startswith("en") else DEFAULT_LOCALE


def negotiate(accept_language: str | None) -> str:
    """Pick the best supported locale from an ``Accept-Language`` header (RFC 9110): highest
    weight first, header order breaking ties, ``q=0`` meaning "not acceptable"."""
    if not accept_language:
        return DEFAULT_LOCALE
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept_language.split(",")):
        tag, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        low = tag.lower()
        if weight <= 0 or not (low.startswith("zh") or low.startswith("en")):
            continue
        candidate = (weight, -position, normalize(low))
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else DEFAULT_LOCALE


def choose(user_locale: str | None, tenant_locale: str | None, accept_language: str | None = None) -> str:
    if user_locale:
        return normalize(user_locale)
    if tenant_locale:
        return normalize(tenant_locale)
    return negotiate(accept_language)
