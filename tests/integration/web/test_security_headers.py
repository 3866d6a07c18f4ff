"""Every HTML page carries the security headers (``app.security_headers``): the routes are found in
the application's own route table, so a new page is covered without being listed here."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from litestar.enums import MediaType, RequestEncodingType
from litestar.response import Template
from litestar.routes import HTTPRoute

from app.security_headers import DOCS_HEADERS, PAGE_HEADERS
from app.web.inquiry import EMBED_CSP
from tests.helpers import PASSWORD, settings_env, signup

_PARAM = re.compile(r"\{(\w+):(\w+)\}")


def _html_routes(app: Any) -> list[tuple[str, str, Any]]:
    """(method, path template, handler) of every route whose handler answers HTML."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            returns = handler.parsed_fn_signature.return_type.annotation
            if returns is Template or handler.media_type == MediaType.HTML:
                found += [(method, route.path, handler) for method in sorted(handler.http_methods)]
    return found


def _url(path: str) -> str:
    # any value: unknown tokens answer a page too (a 404 one); /schema/{path} picks a docs renderer
    values = {
        "str": "not-a-real-token",
        "int": "1",
        "path": "x",
        "uuid": "00000000-0000-4000-8000-000000000000",
    }
    return _PARAM.sub(lambda m: "swagger" if m.group(1) == "path" else values[m.group(2)], path)


def _body(handler: Any) -> dict[str, Any]:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return {}
    if getattr(data.kwarg_definition, "media_type", None) == RequestEncodingType.MULTI_PART:
        fields = [f.name for f in dataclasses.fields(data.annotation)]
        return {"files": {name: ("x.txt", b"not a pdf", "text/plain") for name in fields}}
    return {"data": {}}


async def test_every_html_route_sends_the_security_headers(app, client, tmp_path):
    # signed in with a cookie session (as a browser): the web app's pages answer a page, not a redirect
    owner = await signup(client)
    r = await client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert r.status_code == 200 and client.cookies.get("acre_session")
    routes = _html_routes(app)
    paths = {path for _, path, _ in routes}
    # the walk finds the pages at all (a discovery that found nothing would pass vacuously)
    assert {
        "/invite/{token:str}",
        "/forgot-password",
        "/reset-password/{token:str}",
        "/sign/{token:str}",
        "/verify",
        "/dev/mail",
        "/schema",
        "/",
        "/login",
        "/pool",
        "/customers",
        "/customers/{customer_id:uuid}",
        "/f/{company:str}/{slug:str}",
        "/f/{company:str}/{slug:str}/embed",
    } <= paths
    with settings_env(dev_mail_dir=str(tmp_path)):  # /dev/mail answers only under acre dev
        for method, path, handler in routes:
            r = await client.request(method, _url(path), **_body(handler))
            where = f"{method} {path} -> {r.status_code}"
            assert r.headers["content-type"].startswith("text/html"), where
            if path.startswith("/f/") and path.endswith("/embed"):  # the one framable page
                assert r.headers["content-security-policy"] == EMBED_CSP, where
                assert "x-frame-options" not in r.headers and r.headers["cache-control"] == "no-store", where
                continue
            docs = path == "/schema" or path.startswith("/schema/")
            expected = DOCS_HEADERS if docs else PAGE_HEADERS
            for name in ("x-frame-options", "x-content-type-options", "referrer-policy", "cache-control"):
                assert r.headers[name] == expected[name], (where, name)
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp, where
            if path.startswith("/sign/") or path == "/verify":
                assert "script-src 'self'" in csp and csp.startswith("default-src 'none'"), where  # its own
            elif path == "/dev/mail":
                assert "script-src" not in csp and csp.startswith("default-src 'none'"), where  # no script
            elif not docs:
                assert csp == PAGE_HEADERS["content-security-policy"], where
    client.cookies.clear()


async def test_json_answers_do_not_get_page_headers(client):
    r = await client.get("/health")
    assert r.headers["content-type"].startswith("application/json")
    assert "content-security-policy" not in r.headers and "x-frame-options" not in r.headers
