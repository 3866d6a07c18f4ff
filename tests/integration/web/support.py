"""What the page tests share: the htmx request header and signing in through the login form."""

from __future__ import annotations

from typing import Any

from tests.helpers import PASSWORD, Member

HTMX = {"HX-Request": "true"}


async def sign_in(client: Any, member: Member, **form: str) -> str:
    """Sign in through the page's form; answers the CSRF token the layout hands htmx."""
    client.cookies.clear()
    r = await client.post("/login", data={"email": member.email, "password": PASSWORD, **form})
    assert r.status_code == 303, r.text
    return str(client.cookies.get("acre_csrf"))


def htmx(csrf: str) -> dict[str, str]:
    """The headers of an unsafe htmx request from a page: htmx's marker and the layout's CSRF token."""
    return {**HTMX, "X-CSRF-Token": csrf}
