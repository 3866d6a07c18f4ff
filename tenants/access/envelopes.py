"""Who sees which envelope: every member of the tenant sees every envelope of the tenant — lists it,
reads it and its evidence, sends and voids it. Creating one needs seeing its document
(``documents.document_visible_sql``): an invisible document is 404, like another tenant's id.

Signers are not members: they reach one envelope through their personal link (``app/signing``), never
through this rule.
"""

from __future__ import annotations

from app.sql import Params
from tenants.scope import TenantScope


def envelope_visible_sql(scope: TenantScope, p: Params, envelope: str = "e") -> str:
    """A SQL condition on the envelope row ``envelope``: true when the acting member may see it
    (today every envelope of the tenant; the tenant itself is filtered beside it)."""
    return "TRUE"
