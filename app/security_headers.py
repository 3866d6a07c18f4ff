"""Security headers on every HTML page, set in one place: around the whole application, so that pages
answered by exception handlers (404, 429) get them as well.

Every ``text/html`` response gets a Content-Security-Policy (scripts, styles and requests only from us:
the web app's built assets, no inline script or style, no eval; forms to us only; never framed),
``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
``Cache-Control: no-store`` (pages are per request, and several carry a token in their URL: invitation,
password reset, signing). A header the page set itself is kept: the signing page's policy allows its
inline styles, the development mail viewer's too; a page whose own policy lets other sites frame it
(the embeddable inquiry form, ``app.web.inquiry``) gets no ``X-Frame-Options``. The API docs under
``/schema`` load their script from a CDN, so their policy only forbids framing and ``<base>``."""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

PAGE_HEADERS: dict[str, str] = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self';"
    " img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
DOCS_HEADERS = {**PAGE_HEADERS, "content-security-policy": "base-uri 'none'; frame-ancestors 'none'"}
_ENCODED = {
    name: [(k.encode(), v.encode()) for k, v in headers.items()]
    for name, headers in (("page", PAGE_HEADERS), ("docs", DOCS_HEADERS))
}


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.lower().startswith(b"text/html") for k, v in headers)


def _framable(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the page set its own policy naming who may frame it (the inquiry form's embed)."""
    return any(
        k.lower() == b"content-security-policy"
        and b"frame-ancestors" in v
        and b"frame-ancestors 'none'" not in v
        for k, v in headers
    )


def security_headers(app: ASGIApp, docs_path: str = "/schema") -> ASGIApp:
    """Wrap ``app`` (an ASGI app) so that its HTML responses carry the headers above."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path: str = scope["path"]
        defaults = _ENCODED["docs" if path == docs_path or path.startswith(docs_path + "/") else "page"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                if _is_html(headers):
                    present = {k.lower() for k, _ in headers}
                    if _framable(headers):  # the page's own policy lets others frame it: no DENY
                        present.add(b"x-frame-options")
                    headers += [(k, v) for k, v in defaults if k not in present]
                    message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
