"""Signing in and out of the web app: ``/login`` (email, password, "remember me", then the company
when the person belongs to several), ``/logout``, switching company (``/login?switch=1``: sign in
again and pick another) and the language switch (``/language``, remembered on the user).

The rules are ``tenants.login``'s, as for ``POST /api/v1/auth/login``: the same 401 for a wrong email
or password, the per-account lock (429), the per-address bucket ``login``. A company is chosen by
posting the password again with it — nothing is kept between the two steps. A new session replaces
(and revokes) the one the browser had. Without "remember me" the cookies end with the browser."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from app import rate_limits
from app.errors import AppError
from app.settings import get_settings
from app.web.language import LANG_COOKIE, YEAR, chosen, public_locale
from app.web.pages import busy_page, error_text, page_context
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, safe_next
from tenants import login as tenant_login
from tenants import sessions
from tenants.schemas import LoginCreate, SessionRead
from tenants.scope import CSRF_COOKIE, SESSION_COOKIE, TenantScope, resolve_session


class LoginForm(msgspec.Struct):
    email: str = ""
    password: str = ""
    tenant: str = ""
    remember: str = ""
    next: str = "/"


class LanguageForm(msgspec.Struct):
    locale: str = "en"


def _login_page(locale: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template_name="app/login.html", context=page_context(locale, **context), status_code=status_code
    )


@get("/login", include_in_schema=False)
async def login_page(
    request: Request[Any, Any, Any], next: FromQuery[str] = "/", switch: FromQuery[str] = ""
) -> Template:
    locale = public_locale(request)
    email = ""
    if switch:
        current = (
            await resolve_session(request.cookies.get(SESSION_COOKIE, ""))
            if request.cookies.get(SESSION_COOKIE)
            else None
        )
        if current is not None:
            locale, email = current.locale, current.email or ""
    return _login_page(locale, next=safe_next(next), email=email, switching=bool(switch))


def _session_cookies(session: SessionRead, remember: bool) -> list[Cookie]:
    secure = get_settings().cookie_secure
    max_age = get_settings().session_ttl_hours * 3600 if remember else None
    common: dict[str, Any] = {"samesite": "lax", "secure": secure, "max_age": max_age, "path": "/"}
    return [
        Cookie(key=SESSION_COOKIE, value=session.token, httponly=True, **common),
        Cookie(key=CSRF_COOKIE, value=session.csrf_token, httponly=False, **common),
    ]


@post(
    "/login",
    include_in_schema=False,
    exception_handlers=busy_page("app/login.html"),
    middleware=[rate_limits.bucket("login")],
)
async def login_submit(
    request: Request[Any, Any, Any],
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    locale = public_locale(request)
    target = safe_next(data.next)
    form: dict[str, Any] = {"email": data.email, "next": target, "remember": bool(data.remember)}
    try:
        result = await tenant_login.login(
            LoginCreate(email=data.email, password=data.password, tenant=data.tenant or None),
            request.client.host if request.client else None,
            request.headers.get("user-agent"),
        )
    except AppError as exc:
        return _login_page(locale, exc.status, error=error_text(locale, exc), **form)
    if result.session is None:  # several companies: choose one (the password is asked again)
        return _login_page(locale, choices=result.choose_tenant, **form)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await sessions.logout(old)
    response = Redirect(target, status_code=303)
    response.cookies = _session_cookies(result.session, bool(data.remember))
    return response


def _to(request: Request[Any, Any, Any], target: str) -> Response[Any]:
    """Move the whole page: ``HX-Redirect`` for htmx, a 303 for a plain form."""
    if is_htmx(request):
        return Response("", status_code=200, headers={"HX-Redirect": target})
    return Redirect(target, status_code=303)


@post("/logout", include_in_schema=False, dependencies=PAGE, exception_handlers=PAGE_ERRORS)
async def logout(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Response[Any]:
    await sessions.logout(request.cookies.get(SESSION_COOKIE, ""))
    response = _to(request, "/login")
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@post("/language", include_in_schema=False, dependencies=PAGE, exception_handlers=PAGE_ERRORS)
async def language(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[LanguageForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    await sessions.set_locale(tenant_scope, data.locale)
    response: Response[Any] = (
        Response("", status_code=200, headers={"HX-Refresh": "true"})
        if is_htmx(request)
        else Redirect("/", status_code=303)
    )
    locale = chosen(data.locale)
    if locale:  # the pages before the next sign-in speak it too
        response.set_cookie(
            LANG_COOKIE, locale, max_age=YEAR, path="/", samesite="lax", secure=get_settings().cookie_secure
        )
    return response


ROUTES = [login_page, login_submit, logout, language]
