"""The public signing page (``/sign/{token}``), its page images and script, and the ``/verify`` page.

Server-rendered, no third-party assets; a strict Content-Security-Policy, no referrer (the token is in
the URL) and no caching. The signer's language is the one the sender chose for them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import TooManyRequestsException
from litestar.params import Body, FromPath
from litestar.response import Template

from app import db, i18n, rate_limits
from app.signing import consent, pdfwork, signer
from app.signing.verify import verify_pdf
from app.storage import Storage

_SCRIPT = (Path(__file__).parent / "static" / "signature.js").read_bytes()
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; script-src 'self'; "
    "style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
_STATUS = {
    "invalid": 404,
    "sign": 200,
    "signed": 200,
    "completed": 200,
    "declined": 410,
    "voided": 410,
    "expired": 410,
}


def _client(request: Request[Any, Any, Any]) -> tuple[str | None, str | None]:
    return (request.client.host if request.client else None), request.headers.get("user-agent")


def _storage(request: Request[Any, Any, Any]) -> Storage:
    store: Storage = request.app.state.storage
    return store


def _ctx(locale: str, **context: Any) -> dict[str, Any]:
    def _(message: str, **params: Any) -> str:
        return i18n.translate(locale, message, **params)

    return {"_": _, "locale": locale, **context}


async def _pages(store: Storage, link: signer.LinkState) -> int:
    env = link.envelope
    assert env is not None and link.tenant_id is not None
    if env["page_count"]:
        return int(env["page_count"])
    count = await asyncio.to_thread(pdfwork.page_count, await store.get(env["original_key"]))
    async with db.transaction(link.tenant_id) as tx:
        await tx.execute(
            "UPDATE envelopes SET page_count = $3 WHERE tenant = $1 AND id = $2",
            link.tenant_id,
            env["id"],
            count,
        )
    return count


async def _page(
    request: Request[Any, Any, Any],
    token: str,
    link: signer.LinkState,
    nonce: str | None = None,
    error: str | None = None,
) -> Template:
    if link.signer is not None:
        locale = link.signer["locale"]
    else:
        locale = i18n.negotiate(request.headers.get("accept-language"))
    env = link.envelope
    context = _ctx(
        locale,
        state=link.state,
        token=token,
        nonce=nonce,
        company=link.company,
        error=i18n.translate(locale, error) if error else None,
    )
    if env is not None and link.signer is not None:
        context.update(
            title=env["title"],
            message=env["message"],
            signer=link.signer["name"],
            sender=env["sender_name"] or env["sender_email"] or link.company,
        )
        if link.state == "sign":
            context["pages"] = range(1, await _pages(_storage(request), link) + 1)
            context["consent"] = consent.text(consent.VERSION, locale, link.company)
    status = 400 if error and link.state == "sign" else _STATUS[link.state]
    return Template(template_name="sign.html", context=context, status_code=status, headers=_HEADERS)


def too_many_requests(request: Request[Any, Any, Any], exc: TooManyRequestsException) -> Response[str]:
    """The rate limiter's 429 on the signing link, as a page the signer can read (the limiter runs
    before the handler, so the signer's own language is not known here: the browser's is used)."""
    locale = i18n.negotiate(request.headers.get("accept-language"))
    engine = request.app.template_engine
    assert engine is not None
    html = engine.get_template("sign.html").render(**_ctx(locale, state="busy", token=""))
    return Response(
        html,
        status_code=429,
        media_type="text/html",
        headers={**_HEADERS, **{k: str(v) for k, v in (exc.headers or {}).items()}},
    )


_LIMITED: dict[Any, Any] = {TooManyRequestsException: too_many_requests}
_SIGNING = [rate_limits.bucket("signing")]  # the page and its form posts; not the images or the PDF


@get("/sign/{token:str}", include_in_schema=False, exception_handlers=_LIMITED, middleware=_SIGNING)
async def sign_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    link, nonce = await signer.view(token, *_client(request))
    return await _page(request, token, link, nonce)


class SignForm(msgspec.Struct):
    nonce: str = ""
    consent: str = ""
    kind: str = ""
    typed_name: str = ""
    drawing: str = ""


def _png(data_url: str) -> bytes:
    head, _, body = data_url.partition(",")
    if head != "data:image/png;base64":
        return b""
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return b""


@post("/sign/{token:str}/sign", include_in_schema=False, exception_handlers=_LIMITED, middleware=_SIGNING)
async def sign_submit(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    data: Annotated[SignForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    form = signer.Submission(
        nonce=data.nonce,
        consent=data.consent == "yes",
        kind=data.kind,
        typed_name=data.typed_name,
        drawing=_png(data.drawing) if data.kind == "drawn" else b"",
    )
    link, error = await signer.sign(token, form, _storage(request), *_client(request))
    if error and link.state == "sign":  # show the form again, with a fresh nonce
        fresh, nonce = await signer.view(token, *_client(request))
        return await _page(request, token, fresh, nonce, error)
    return await _page(request, token, link)


class DeclineForm(msgspec.Struct):
    nonce: str = ""
    reason: str = ""


@post("/sign/{token:str}/decline", include_in_schema=False, exception_handlers=_LIMITED, middleware=_SIGNING)
async def decline_submit(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    data: Annotated[DeclineForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    link, error = await signer.decline(token, data.nonce, data.reason, *_client(request))
    if error and link.state == "sign":
        fresh, nonce = await signer.view(token, *_client(request))
        return await _page(request, token, fresh, nonce, error)
    return await _page(request, token, link)


@get("/sign/{token:str}/pages/{number:int}", include_in_schema=False)
async def page_image(
    request: Request[Any, Any, Any], token: FromPath[str], number: FromPath[int]
) -> Response[bytes]:
    """One page of the document as PNG, rendered once and cached in storage."""
    link = await signer.peek(token)
    if link.state not in ("sign", "signed", "completed") or link.envelope is None:
        return Response(b"", status_code=404, headers=_HEADERS)
    store, env = _storage(request), link.envelope
    if number < 1 or number > await _pages(store, link):
        return Response(b"", status_code=404, headers=_HEADERS)
    key = f"signing/{link.tenant_id}/{env['id']}/pages/{number}.png"
    try:
        png = await store.get(key)
    except Exception:
        png = await asyncio.to_thread(pdfwork.render_page_png, await store.get(env["original_key"]), number)
        await store.put(key, png, "image/png")
    return Response(
        png, media_type="image/png", headers={**_HEADERS, "Cache-Control": "private, max-age=600"}
    )


@get("/sign/{token:str}/signed.pdf", include_in_schema=False)
async def signed_pdf(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    link = await signer.peek(token)
    if link.state != "completed" or link.envelope is None or not link.envelope["sealed_key"]:
        return Response(b"", status_code=404, headers=_HEADERS)
    pdf = await _storage(request).get(link.envelope["sealed_key"])
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**_HEADERS, "Content-Disposition": 'attachment; filename="signed.pdf"'},
    )


@get("/sign-assets/signature.js", include_in_schema=False)
async def signature_script() -> Response[bytes]:
    return Response(
        _SCRIPT,
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@get("/verify", include_in_schema=False)
async def verify_page(request: Request[Any, Any, Any]) -> Template:
    locale = i18n.negotiate(request.headers.get("accept-language"))
    return Template(template_name="verify.html", context=_ctx(locale, result=None), headers=_HEADERS)


@dataclass
class VerifyForm:
    file: UploadFile


@post("/verify", include_in_schema=False, middleware=[rate_limits.bucket("verify")])
async def verify_submit(
    request: Request[Any, Any, Any],
    data: Annotated[VerifyForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template:
    locale = i18n.negotiate(request.headers.get("accept-language"))
    content = await data.file.read()
    if not content.startswith(b"%PDF"):
        return Template(
            template_name="verify.html",
            status_code=422,
            headers=_HEADERS,
            context=_ctx(locale, result=None, error=i18n.translate(locale, "Upload a PDF file")),
        )
    result = await verify_pdf(content)
    return Template(template_name="verify.html", context=_ctx(locale, result=result), headers=_HEADERS)


ROUTES: list[Any] = [
    sign_page,
    sign_submit,
    decline_submit,
    page_image,
    signed_pdf,
    signature_script,
    verify_page,
    verify_submit,
]
