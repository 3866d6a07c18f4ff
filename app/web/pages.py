"""Helpers shared by the server-rendered pages: translation in templates, one base layout."""

from __future__ import annotations

from typing import Any

from app import i18n


def page_context(locale: str, **context: Any) -> dict[str, Any]:
    def _(message: str, **params: Any) -> str:
        return i18n.translate(locale, message, **params)

    return {"_": _, "locale": locale, **context}
