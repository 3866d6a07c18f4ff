"""The page an invitation email links to: shows the invitation and accepts it with a form."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app import i18n, rate_limits
from app.errors import AppError
from app.settings import get_settings
from app.web.language import public_locale
from app.web.pages import busy_page, error_text, page_context
from tenants import invitations, roles
from tenants.schemas import InvitationAccept
from tenants.scope import CSRF_COOKIE, SESSION_COOKIE


class AcceptForm(msgspec.Struct):
    password: str = ""
    name: str = ""


def _page(
    invite: dict[str, Any] | None,
    locale: str,
    token: str,
    error: str | None = None,
    done: bool = False,
    status_code: int = 200,
) -> Template:
    role = i18n.translate(locale, roles.LABELS[str(invite["role"])]) if invite else ""
    return Template(
        template_name="invite.html",
        context=page_context(locale, invite=invite, token=token, error=error, done=done, role=role),
        status_code=status_code,
    )


@get("/invite/{token:str}", include_in_schema=False)
async def invite_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    try:
        invite = await invitations.peek_invitation(token)
    except AppError:
        locale = public_locale(request)
        return _page(
            None,
            locale,
            token,
            error=i18n.translate(locale, "This invitation link is not valid"),
            status_code=404,
        )
    return _page(invite, public_locale(request, str(invite["locale"])), token)


@post(
    "/invite/{token:str}",
    include_in_schema=False,
    exception_handlers=busy_page("invite.html"),
    middleware=[rate_limits.bucket("invitation")],
)
async def invite_accept(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    data: Annotated[AcceptForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    try:
        invite = await invitations.peek_invitation(token)
    except AppError:
        locale = public_locale(request)
        return _page(
            None,
            locale,
            token,
            error=i18n.translate(locale, "This invitation link is not valid"),
            status_code=404,
        )
    locale = public_locale(request, str(invite["locale"]))
    try:
        session = await invitations.accept_invitation(
            token,
            InvitationAccept(password=data.password, name=data.name or None),
            request.client.host if request.client else None,
            request.headers.get("user-agent"),
        )
    except AppError as exc:
        return _page(invite, locale, token, error=error_text(locale, exc), status_code=exc.status)
    page = _page(invite, locale, token, done=True)
    secure = get_settings().cookie_secure
    page.cookies = [
        Cookie(
            key=SESSION_COOKIE, value=session.token, httponly=True, samesite="lax", secure=secure, path="/"
        ),
        Cookie(key=CSRF_COOKIE, value=session.csrf_token, samesite="lax", secure=secure, path="/"),
    ]
    return page
