# ruff: noqa: E501  (a row's markup stays one line per element, as in the templates it replaced)
"""The rows of the two longest lists a rep opens, the pool and My customers, as HTML built in
Python: a row is one f-string with its few values escaped (``html.escape``, in C), where the same row
as a Jinja template costs about thirty generator steps and fifteen ``Markup`` objects — most of the
pages' rendering time at 50 rows (``tests/bench/bench_web_pages.py``). The markup is the one the
templates had; ``_pool_items.html`` and ``_customer_items.html`` call these and keep the "more"
button, so the htmx "more" answer and the full page share them.

Each function takes the page's ``_`` (translate) and ``label`` (a source or status code's words)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from html import escape
from typing import Any
from uuid import UUID

from markupsafe import Markup

from app.i18n import N_

Translate = Callable[..., str]
Label = Callable[[str, str | None], str | None]

_GRADE, _NEVER, _LAST, _NEXT = (
    N_("Grade"),
    N_("Never followed up"),
    N_("Last follow-up {date}"),
    N_("Next follow-up {date}"),
)
_CLAIM, _WHY = N_("Claim"), N_("Why?")
_TODAY, _IN_DAYS = N_("Returns to the pool today"), N_("Returns to the pool in {n} days")
_CROSS, _CROSS_TITLE = N_("Cross-territory"), N_("Its credit code points to another territory")
_RELEASE, _RELEASE_WHY, _RELEASE_IT, _RELEASE_NOTE = (
    N_("Release to the pool"),
    N_("Why release it? (required)"),
    N_("Release it"),
    N_("Note (optional)"),
)


def _e(value: Any) -> str:
    return escape(str(value)) if value is not None else ""


def pool_rows(items: Iterable[Any], _: Translate, label: Label) -> Markup:
    """The pool's rows: name, grade, territory · industry · source, the last follow-up, and the claim
    and "why" buttons (htmx)."""
    grade, never, last, claim, why = _e(_(_GRADE)), _e(_(_NEVER)), _(_LAST), _e(_(_CLAIM)), _e(_(_WHY))
    out = []
    for c in items:
        cid = str(c.id)
        meta = _e(c.territory_name)
        if c.industry:
            meta += " · " + _e(c.industry)
        if c.source:
            meta += " · " + _e(label("source", c.source))
        if c.phone:  # masked where the pool hides it until claimed
            meta += " · " + _e(c.phone)
        when = _e(last.format(date=c.last_followup_at.date())) if c.last_followup_at else never
        out.append(
            f'<li class="item" id="pool-{cid}">\n'
            f'  <div class="row"><h3>{_e(c.full_name)}</h3><span class="grade" title="{grade}">{_e(c.grade)}</span></div>\n'
            f'  <p class="meta">{meta}</p>\n'
            f'  <p class="meta">{when}</p>\n'
            f'  <div class="row" id="claim-{cid}">\n'
            f'    <button type="button" hx-post="/customers/{cid}/claim" hx-target="#claim-{cid}" hx-swap="innerHTML">{claim}</button>\n'
            f'    <button type="button" class="link" hx-get="/customers/{cid}/pool-status" hx-target="#why-{cid}">{why}</button>\n'
            "  </div>\n"
            f'  <div id="why-{cid}"></div>\n'
            "</li>\n"
        )
    return Markup("".join(out))  # noqa: S704 (every value above is escaped)


def customer_rows(
    items: Iterable[Any],
    _: Translate,
    label: Label,
    *,
    team: bool = False,
    days_left: Mapping[UUID, int] | None = None,
    warning_days: int = 0,
    reasons: Iterable[Any] = (),
) -> Markup:
    """My customers' rows (or the team's: the owner's name, no release): name (a link), grade,
    territory · status, the next or last follow-up, the "returns to the pool in N days" badge, and
    release with a reason (htmx)."""
    grade, never, last, next_ = _e(_(_GRADE)), _e(_(_NEVER)), _(_LAST), _(_NEXT)
    today, in_days = _e(_(_TODAY)), _(_IN_DAYS)
    cross = f'<span class="badge cross" title="{_e(_(_CROSS_TITLE))}">{_e(_(_CROSS))}</span>'
    release, release_why, release_it = _e(_(_RELEASE)), _e(_(_RELEASE_WHY)), _e(_(_RELEASE_IT))
    note = _e(_(_RELEASE_NOTE))
    options = "".join(f'<option value="{_e(r.code)}">{_e(r.label)}</option>' for r in reasons)
    out = []
    for c in items:
        cid = str(c.id)
        meta = f"{_e(c.territory_name)} · {_e(label('status', c.status))}"
        if c.cross_territory:
            meta += " " + cross
        if team and c.owner_name:
            meta += " · " + _e(c.owner_name)
        if c.next_followup_at:
            when = _e(next_.format(date=c.next_followup_at.date()))
        elif c.last_followup_at:
            when = _e(last.format(date=c.last_followup_at.date()))
        else:
            when = never
        row = [
            f'<li class="item" id="customer-{cid}">\n'
            f'  <div class="row"><h3><a href="/customers/{cid}">{_e(c.full_name)}</a></h3><span class="grade" title="{grade}">{_e(c.grade)}</span></div>\n'
            f'  <p class="meta">{meta}</p>\n'
            f'  <p class="meta">{when}</p>\n'
        ]
        if days_left is not None and c.id in days_left:
            n = days_left[c.id]
            soon = " soon" if n <= warning_days else ""
            words = today if n == 0 else _e(in_days.format(n=n))
            row.append(f'  <p><span class="badge{soon}" data-days="{n}">{words}</span></p>\n')
        if not team and c.owner_membership_id:
            row.append(
                '  <details class="release">\n'
                f"    <summary>{release}</summary>\n"
                f'    <form hx-post="/customers/{cid}/release" hx-target="#release-msg-{cid}">\n'
                f'      <label for="reason-{cid}">{release_why}</label>\n'
                f'      <select id="reason-{cid}" name="reason" required><option value=""></option>{options}</select>\n'
                f'      <label for="note-{cid}">{note}</label>\n'
                f'      <textarea id="note-{cid}" name="note" rows="2" maxlength="1000"></textarea>\n'
                f'      <button type="submit" class="danger">{release_it}</button>\n'
                f'      <div id="release-msg-{cid}" aria-live="polite"></div>\n'
                "    </form>\n"
                "  </details>\n"
            )
        row.append("</li>\n")
        out.append("".join(row))
    return Markup("".join(out))  # noqa: S704 (every value above is escaped)


def territory_options(territories: Iterable[Any], chosen: str | None) -> Markup:
    """The territory picker's ``<option>``s (the shell's ``TerritoryOption``s: id as text, name,
    depth), the chosen one selected, each indented by its depth."""
    out = []
    for t in territories:
        selected = " selected" if t.id == chosen else ""
        out.append(f'<option value="{_e(t.id)}"{selected}>{"· " * t.depth}{_e(t.name)}</option>')
    return Markup("".join(out))  # noqa: S704 (every value above is escaped)
