"""Login: a password checked, then a session for one of the user's companies."""

from __future__ import annotations

from uuid import UUID

from app import db
from app.accounts import lockout
from app.accounts import service as accounts
from app.errors import NotAuthenticated
from app.rows import to_struct
from tenants.schemas import LoginCreate, LoginRead, TenantChoice
from tenants.sessions import open_session


async def login(data: LoginCreate, ip: str | None, user_agent: str | None) -> LoginRead:
    """Check the password, then open a session for the named tenant or the only one; with several
    and none named, answer with the list. A wrong email or password get the same 401; an account
    tried too often answers 429 (``app.accounts.lockout``)."""
    async with db.transaction(None) as tx:
        user = await accounts.find_user_by_email(tx, data.email.strip())
        ok = await lockout.verify(data.email, data.password, str(user["password_hash"]) if user else None)
        if not user or not ok:
            raise NotAuthenticated("Wrong email or password")
        user_id = UUID(str(user["id"]))
    async with db.transaction(None, user_id) as tx:
        rows = await tx.fetch(
            "SELECT t.id, t.slug, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant"
            " WHERE m.user_id = $1 AND m.active ORDER BY t.name",
            user_id,
        )
        choices = {r["slug"]: (r["id"], to_struct(TenantChoice, r)) for r in rows}
        if data.tenant is not None:
            if data.tenant not in choices:
                raise NotAuthenticated("You are not an active member of this company")
            tenant_id, choice = choices[data.tenant]
        elif len(choices) == 1:
            tenant_id, choice = next(iter(choices.values()))
        elif not choices:
            raise NotAuthenticated("You are not an active member of any company")
        else:
            return LoginRead(choose_tenant=[c for _, c in choices.values()])
        return LoginRead(session=await open_session(tx, user_id, choice, tenant_id, ip, user_agent))
