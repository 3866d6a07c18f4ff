"""Signing a company up: ``/signup`` (public, no session), the same service and per-address bucket as
``POST /api/v1/signup``: company name, address (slug), the owner's name, email and password, the
company's language, time zone and currency. Success signs the owner in (the cookies ``/login`` sets)
and lands on the onboarding checklist; a refusal shows beside its field, nothing created (the service
creates everything in one transaction).

Also the field-error helper the setup pages share: which field a service's problem names."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from babel.dates import get_timezone_location
from babel.numbers import get_currency_name
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from app import rate_limits
from app.errors import AppError, ValidationFailed
from app.web.language import public_locale
from app.web.pages import busy_page, error_text, page_context
from app.web.sign_in import _session_cookies
from tenants import sessions
from tenants import signup as tenant_signup
from tenants.schemas import SignupCreate
from tenants.scope import SESSION_COOKIE

TIME_ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
)
CURRENCIES = ("CNY", "HKD", "TWD", "SGD", "JPY", "USD", "EUR", "GBP")
LANGUAGES = {"zh-CN": "中文", "en": "English"}
_REQUIRED = ("company_name", "slug", "name", "email", "password")


class SignupForm(msgspec.Struct):
    company_name: str = ""
    slug: str = ""
    name: str = ""
    email: str = ""
    password: str = ""
    locale: str = "zh-CN"
    time_zone: str = "Asia/Shanghai"
    currency: str = "CNY"


def error_field(exc: AppError) -> str | None:
    """The field a service's problem is about (``errors[0].field`` or ``field``), if it names one."""
    errors = exc.extra.get("errors") or []
    if errors:
        return str(errors[0].get("field"))
    field = exc.extra.get("field")
    return str(field) if field else None


def _page(locale: str, status_code: int = 200, **context: Any) -> Template:
    babel_locale = locale.replace("-", "_")
    return Template(
        template_name="app/signup.html",
        context=page_context(
            locale,
            time_zones=[(z, get_timezone_location(z, locale=babel_locale)) for z in TIME_ZONES],
            currencies=[(c, get_currency_name(c, locale=babel_locale)) for c in CURRENCIES],
            languages=LANGUAGES,
            fields=(*_REQUIRED, "locale", "time_zone", "currency"),
            **context,
        ),
        status_code=status_code,
    )


@get("/signup", include_in_schema=False)
async def signup_page(request: Request[Any, Any, Any]) -> Template:
    locale = public_locale(request)
    return _page(locale, form=SignupForm(locale=locale))


def _body(form: SignupForm) -> SignupCreate:
    """The form as the API's body; a blank required field or an unknown language is a 422 on it."""
    for name in _REQUIRED:
        if not getattr(form, name).strip():
            raise ValidationFailed.field(name, "Required")
    if form.locale not in LANGUAGES:
        raise ValidationFailed.field("locale", "Unknown language")
    values = {f: getattr(form, f) for f in SignupForm.__struct_fields__}
    values["slug"] = form.slug.strip().lower()
    try:
        return msgspec.convert(values, SignupCreate)
    except msgspec.ValidationError as exc:  # a length limit
        field = str(exc).rsplit("$.", 1)[-1].rstrip("`") if "$." in str(exc) else "company_name"
        raise ValidationFailed.field(field, "Too long") from None


@post(
    "/signup",
    include_in_schema=False,
    exception_handlers=busy_page("app/signup.html"),
    middleware=[rate_limits.bucket("signup")],
)
async def signup_submit(
    request: Request[Any, Any, Any],
    data: Annotated[SignupForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    locale = data.locale if data.locale in LANGUAGES else public_locale(request)
    try:
        session = await tenant_signup.signup(
            _body(data),
            request.client.host if request.client else None,
            request.headers.get("user-agent"),
        )
    except AppError as exc:
        form = msgspec.structs.replace(data, password="")
        return _page(
            locale, exc.status, form=form, error=error_text(locale, exc), error_field=error_field(exc)
        )
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await sessions.logout(old)
    response = Redirect("/onboarding", status_code=303)
    response.cookies = _session_cookies(session, False)
    return response


ROUTES = [signup_page, signup_submit]
