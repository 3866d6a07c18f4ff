"""The language of a page nobody is signed in to (login, forgot / reset password, invitation, signup):
``?lang=`` (the switch in those pages' footer), else the one chosen before (the ``acre_lang`` cookie,
a year), else the browser's ``Accept-Language``. Signed-in pages speak the member's language
(``POST /language`` stores it on the user, and sets the cookie too, so the login page after a sign-out
keeps it).

``remember_language`` wraps the ASGI app: an HTML answer to a ``GET`` with a valid ``?lang=`` sets the
cookie, whichever page answered — one place, so no public page can forget to."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qs

from litestar import Request
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from app import i18n
from app.settings import get_settings

LANG_COOKIE = "acre_lang"
YEAR = 365 * 24 * 3600


def chosen(value: str | None) -> str | None:
    """A supported locale named by ``value`` (``zh-CN``, ``zh``, ``en``…), else None."""
    if not value:
        return None
    low = value.strip().lower()
    return i18n.normalize(low) if low.startswith(("zh", "en")) else None


def public_locale(request: Request[Any, Any, Any], known: str | None = None) -> str:
    """``?lang=``, else the cookie, else ``known`` (the language the account or the invitation the
    page is for was given), else the browser's."""
    return (
        chosen(request.query_params.get("lang"))
        or chosen(request.cookies.get(LANG_COOKIE))
        or chosen(known)
        or i18n.negotiate(request.headers.get("accept-language"))
    )


def cookie_header(locale: str) -> tuple[bytes, bytes]:
    secure = "; Secure" if get_settings().cookie_secure else ""
    value = f"{LANG_COOKIE}={locale}; Max-Age={YEAR}; Path=/; SameSite=Lax{secure}"
    return b"set-cookie", value.encode()


def remember_language(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or cast(HTTPScope, scope)["method"] != "GET"
            or b"lang=" not in scope["query_string"]
        ):
            await app(scope, receive, send)
            return
        values = parse_qs(scope["query_string"].decode("latin-1")).get("lang")
        locale = chosen(values[0] if values else None)

        async def send_with_cookie(message: Message) -> None:
            if locale and message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                if any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    message["headers"] = [*headers, cookie_header(locale)]
            await send(message)

        await app(scope, receive, send_with_cookie)

    return wrapped
