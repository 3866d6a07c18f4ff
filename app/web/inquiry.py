"""A company's public inquiry form: ``/f/{company}/{form}`` (a page of its own) and
``/f/{company}/{form}/embed`` (the same form, bare, for an ``<iframe>`` on the company's site: its
policy lets any site frame it, this route only). Both post to themselves; a plain HTML form on the
company's site may post to ``/f/{company}/{form}`` too — without our signed token it gets the form
back, filled in, to send once more (the token's minimum fill time applies to every inquiry).

Spam: the per-address bucket (``inquiry``) in front of the posts, a per-form count
(``inquiry_form``), the honeypot (answered like a success, nothing is taken) and the signed token
(``app.leads.forms``). The page speaks the visitor's language (``app.web.language``); the form's own
texts (its name, its thank-you) are the company's."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath
from litestar.response import Template

from app import i18n, rate_limits
from app.errors import AppError, NotFound, ValidationFailed
from app.i18n import N_
from app.leads import forms
from app.leads.forms import HONEYPOT, PublicForm, Spam
from app.web.language import public_locale
from app.web.pages import busy_page, page_context

LABELS = {
    "full_name": N_("Company name"),
    "contact_name": N_("Your name"),
    "phone": N_("Phone"),
    "email": N_("Email"),
    "contact_title": N_("Your position"),
    "address": N_("Address"),
    "industry": N_("Industry"),
    "headcount": N_("Number of employees"),
    "tax_id": N_("Unified social credit code"),
    "message": N_("What can we do for you?"),
}
INPUTS = {"email": "email", "phone": "tel", "headcount": "number"}
M_MISSING = N_("This form is not available")
THANKS = N_("Thank you: we have your inquiry and will be in touch soon.")
# framed anywhere: this page only (every other page keeps frame-ancestors 'none')
EMBED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
    " form-action 'self'; base-uri 'none'; frame-ancestors *"
)


def _template(embed: bool) -> str:
    return "inquiry_embed.html" if embed else "app/inquiry.html"


def _page(
    request: Request[Any, Any, Any],
    form: PublicForm,
    embed: bool,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    thanks: str | None = None,
    confirm: bool = False,
) -> Template:
    locale = public_locale(request)
    fields = [("full_name", True)] + [(f.name, f.required) for f in form.form.fields]
    action = f"/f/{form.scope.tenant_slug}/{form.form.slug}" + ("/embed" if embed else "")
    context = page_context(
        locale,
        form=form.form,
        company=form.scope.tenant_name,
        fields=fields,
        labels=LABELS,
        inputs=INPUTS,
        values=values or {},
        token=forms.form_token(form.form.id),
        honeypot=HONEYPOT,
        action=action,
        error=error,
        errors=errors or {},
        thanks=thanks,
        confirm=confirm,
        embed=embed,
    )
    headers = {"content-security-policy": EMBED_CSP} if embed else None
    return Template(template_name=_template(embed), context=context, status_code=status_code, headers=headers)


def _busy(embed: bool) -> dict[Any, Any]:
    handlers = busy_page(_template(embed))
    if not embed:
        return handlers
    plain = handlers[TooManyRequestsException]

    def framed(request: Request[Any, Any, Any], exc: TooManyRequestsException) -> Response[str]:
        answer = plain(request, exc)
        answer.headers["content-security-policy"] = EMBED_CSP
        return answer

    return {TooManyRequestsException: framed}


def _missing(request: Request[Any, Any, Any], embed: bool) -> Template:
    locale = public_locale(request)
    context = page_context(locale, busy=True, error=i18n.translate(locale, M_MISSING))
    headers = {"content-security-policy": EMBED_CSP} if embed else None
    return Template(template_name=_template(embed), context=context, status_code=404, headers=headers)


async def _show(request: Request[Any, Any, Any], company: str, slug: str, embed: bool) -> Template:
    try:
        form = await forms.public_form(company, slug)
    except NotFound:
        return _missing(request, embed)
    return _page(request, form, embed)


async def _submit(request: Request[Any, Any, Any], company: str, slug: str, embed: bool) -> Template:
    try:
        form = await forms.public_form(company, slug)
    except NotFound:
        return _missing(request, embed)
    await rate_limits.spend(request.app, "inquiry_form", str(form.form.id))
    values = {k: str(v) for k, v in (await request.form()).items()}
    token = values.pop("token", "")
    locale = public_locale(request)
    if not token:  # a plain form from the company's site: the same form back, filled in, with a token
        return _page(request, form, embed, values=values, confirm=True)
    try:
        await forms.submit(form, values, token)
    except Spam as spam:
        if spam.reason == "honeypot":  # told nothing: looks like it worked
            return _page(request, form, embed, thanks=form.form.thank_you or i18n.translate(locale, THANKS))
        return _page(
            request, form, embed, status_code=422, values=values, error=i18n.translate(locale, spam.message)
        )
    except ValidationFailed as exc:
        errors = {
            e["field"]: i18n.translate(locale, e["message"], **e.get("params", {}))
            for e in exc.extra.get("errors", [])
        }
        return _page(request, form, embed, status_code=422, values=values, errors=errors)
    except AppError as exc:
        message = i18n.translate(locale, exc.detail or exc.title, **exc.params)
        return _page(request, form, embed, status_code=exc.status, values=values, error=message)
    return _page(request, form, embed, thanks=form.form.thank_you or i18n.translate(locale, THANKS))


@get("/f/{company:str}/{slug:str}", include_in_schema=False)
async def inquiry_page(
    request: Request[Any, Any, Any], company: FromPath[str], slug: FromPath[str]
) -> Template:
    return await _show(request, company, slug, embed=False)


@get("/f/{company:str}/{slug:str}/embed", include_in_schema=False)
async def inquiry_embed(
    request: Request[Any, Any, Any], company: FromPath[str], slug: FromPath[str]
) -> Template:
    return await _show(request, company, slug, embed=True)


@post(
    "/f/{company:str}/{slug:str}",
    include_in_schema=False,
    middleware=[rate_limits.bucket("inquiry")],
    exception_handlers=_busy(False),
)
async def inquiry_submit(
    request: Request[Any, Any, Any], company: FromPath[str], slug: FromPath[str]
) -> Template:
    return await _submit(request, company, slug, embed=False)


@post(
    "/f/{company:str}/{slug:str}/embed",
    include_in_schema=False,
    middleware=[rate_limits.bucket("inquiry")],
    exception_handlers=_busy(True),
)
async def inquiry_embed_submit(
    request: Request[Any, Any, Any], company: FromPath[str], slug: FromPath[str]
) -> Template:
    return await _submit(request, company, slug, embed=True)


ROUTES = [inquiry_page, inquiry_embed, inquiry_submit, inquiry_embed_submit]
