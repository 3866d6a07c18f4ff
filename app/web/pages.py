"""Helpers shared by the server-rendered pages: translation in templates, one base layout, errors and
the per-address limiter's 429 as a page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import TooManyRequestsException

from app import i18n
from app.errors import TRY_LATER, AppError, rate_limit_headers
from app.web.assets import asset_url
from app.web.language import public_locale


def page_context(locale: str, **context: Any) -> dict[str, Any]:
    """What every page template needs, signed in or not: ``_`` (translate), the locale, the other
    locale (the language switch) and ``asset`` (a built file's URL)."""

    catalog = i18n.catalog(locale)  # looked up once per page: a page says hundreds of words

    def _(message: str, **params: Any) -> str:
        text = catalog.get(message, message)
        return text.format(**params) if params else text

    other = "en" if locale == "zh-CN" else "zh-CN"
    return {"_": _, "locale": locale, "other_locale": other, "asset": asset_url, **context}


def error_text(locale: str, exc: AppError) -> str:
    """What a form shows for a refused submission: the first field message, else the detail."""
    errors = exc.extra.get("errors") or []
    if errors:
        return i18n.translate(locale, errors[0]["message"], **errors[0].get("params", {}))
    return i18n.translate(locale, exc.detail or exc.title, **exc.params)


def busy_page(template: str) -> dict[Any, Any]:
    """Exception handlers answering the per-address limiter's 429 as ``template`` with only an error
    (``busy`` set: the template shows no form), in the browser's language."""

    def too_many_requests(request: Request[Any, Any, Any], exc: TooManyRequestsException) -> Response[str]:
        locale = public_locale(request)
        engine = request.app.template_engine
        assert engine is not None
        context = page_context(locale, busy=True, error=i18n.translate(locale, TRY_LATER))
        return Response(
            engine.get_template(template).render(**context),
            status_code=429,
            media_type="text/html",
            headers=rate_limit_headers(exc),
        )

    return {TooManyRequestsException: too_many_requests}
