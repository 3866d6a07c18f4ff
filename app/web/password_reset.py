"""The pages of a password reset: ``/forgot-password`` asks for the email (and answers the same
whether or not an account uses it), ``/reset-password/{token}`` (the mailed link) sets the new
password. The rules are ``app.accounts.password_reset``'s."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app import i18n, rate_limits
from app.accounts import password_reset
from app.accounts import service as accounts
from app.errors import AppError, ValidationFailed
from app.web.language import public_locale
from app.web.pages import busy_page, error_text, page_context

_STATUS_CODE = {"pending": 200, "done": 200, "invalid": 404, "used": 410, "expired": 410, "revoked": 410}


class ForgotForm(msgspec.Struct):
    email: str = ""


class ResetForm(msgspec.Struct):
    password: str = ""


def _forgot(locale: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template_name="forgot_password.html", context=page_context(locale, **context), status_code=status_code
    )


@get("/forgot-password", include_in_schema=False)
async def forgot_page(request: Request[Any, Any, Any]) -> Template:
    return _forgot(public_locale(request))


@post(
    "/forgot-password",
    include_in_schema=False,
    exception_handlers=busy_page("forgot_password.html"),
    middleware=[rate_limits.bucket("password_reset")],
)
async def forgot_submit(
    request: Request[Any, Any, Any],
    data: Annotated[ForgotForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    locale = public_locale(request)
    try:
        email = accounts.normalize_email(data.email)
    except ValidationFailed as exc:
        return _forgot(locale, 422, email=data.email, error=error_text(locale, exc))
    page = _forgot(locale, sent=True, message=i18n.translate(locale, password_reset.REQUESTED))
    ip = request.client.host if request.client else None
    page.background = BackgroundTask(password_reset.request_reset, email, locale, ip)  # after the answer
    return page


def _reset(
    locale: str, token: str, state: str, error: str | None = None, status_code: int | None = None
) -> Template:
    if state == "invalid" and error is None:
        error = i18n.translate(locale, "This password reset link is not valid")
    return Template(
        template_name="reset_password.html",
        context=page_context(locale, token=token, state=state, error=error),
        status_code=status_code or _STATUS_CODE[state],
    )


@get("/reset-password/{token:str}", include_in_schema=False)
async def reset_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    status, locale = await password_reset.link(token)
    return _reset(public_locale(request, locale), token, status)


@post(
    "/reset-password/{token:str}",
    include_in_schema=False,
    exception_handlers=busy_page("reset_password.html"),
    middleware=[rate_limits.bucket("password_reset")],
)
async def reset_submit(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    data: Annotated[ResetForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    _, user_locale = await password_reset.link(token)
    locale = public_locale(request, user_locale)
    try:
        await password_reset.reset_password(token, data.password)
    except AppError as exc:
        state = "pending" if exc.status == 422 else (await password_reset.link(token))[0]
        return _reset(locale, token, state, error_text(locale, exc), exc.status)
    return _reset(locale, token, "done")


ROUTES = [forgot_page, forgot_submit, reset_page, reset_submit]
