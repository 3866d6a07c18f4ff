"""Whether a company's onboarding checklist (``/onboarding``) is complete, in one query, so the app
shell can hide the "Get started" entry once every step is done (the page stays reachable by URL).

The six conditions are the page's own (``app.web.onboarding.steps``, read through the services):
the newest company profile has a legal name and a credit code, a territory exists, someone was
invited or a second member joined, the pool rules were saved, a product is on the price list, a
template is active. ``tests/integration/web/test_onboarding_nav.py`` checks that both agree."""

from __future__ import annotations

from tenants.scope import TenantScope

_COMPLETE = """
SELECT
  EXISTS (SELECT 1 FROM company_profile_versions p WHERE p.tenant = $1
          AND p.version = (SELECT max(version) FROM company_profile_versions WHERE tenant = $1)
          AND p.legal_name IS NOT NULL AND p.credit_code IS NOT NULL)
  AND EXISTS (SELECT 1 FROM territories WHERE tenant = $1)
  AND (EXISTS (SELECT 1 FROM invitations WHERE tenant = $1)
       OR (SELECT count(*) FROM (SELECT 1 FROM memberships WHERE tenant = $1 LIMIT 2) m) > 1)
  AND EXISTS (SELECT 1 FROM pool_rules WHERE tenant = $1)
  AND EXISTS (SELECT 1 FROM products WHERE tenant = $1)
  AND EXISTS (SELECT 1 FROM document_templates WHERE tenant = $1 AND active)
"""


def complete_sql() -> str:
    """The same test as one scalar subquery (the tenant is ``$1``), for the shell's one round trip."""
    return f"({_COMPLETE})"


async def checklist_complete(scope: TenantScope) -> bool:
    """Every step of the onboarding checklist is done (owners and admins only: ``False`` for others,
    who never see the entry)."""
    if not scope.at_least("admin"):
        return False
    async with scope.tx() as tx:
        return bool(await tx.fetchval(_COMPLETE, scope.tenant_id))
