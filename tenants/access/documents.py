"""Who sees which document: owners and admins all; anyone else the documents they generated and those
whose subject they see — a customer they see (``customers``), a deal or a quote of a deal they
see (``deals``), a handover they made, gave or received. A document outside this is 404, like
another tenant's id; the same rule guards sending a document for signature.

The subject id is text (the ``sample`` subject is not a uuid): each cast sits behind a ``CASE`` on the
subject type, so it is evaluated only for the types whose ids are uuids, and the lookups use keys.
"""

from __future__ import annotations

from app.db import Tx
from app.sql import Params
from tenants.access.customers import customer_access
from tenants.access.deals import DealAccess
from tenants.scope import TenantScope


def _subject_uuid(doc: str, subject_type: str) -> str:
    return f"(CASE WHEN {doc}.subject_type = '{subject_type}' THEN {doc}.subject_id::uuid END)"


async def document_visible_sql(tx: Tx, scope: TenantScope, p: Params, doc: str = "d") -> str:
    """A SQL condition on the document row ``doc``: true when the acting member may see it."""
    if scope.at_least("admin"):
        return "TRUE"
    customers = await customer_access(tx, scope)
    deals = DealAccess(False, scope.membership_id, customers.managed)  # what deal_access would query again
    me = p(scope.membership_id)
    deal_seen = deals.visible_sql(p, "dl", "dc")
    return (
        f"({doc}.generated_by = {me}"
        f" OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant = {doc}.tenant"
        f"  AND c.id = {_subject_uuid(doc, 'customer')} AND {customers.visible_sql(p, 'c')})"
        f" OR EXISTS (SELECT 1 FROM deals dl JOIN customers dc ON dc.tenant = dl.tenant"
        f"  AND dc.id = dl.customer_id WHERE dl.tenant = {doc}.tenant"
        f"  AND dl.id = {_subject_uuid(doc, 'deal')} AND {deal_seen})"
        f" OR EXISTS (SELECT 1 FROM quotes q JOIN deals dl ON dl.tenant = q.tenant AND dl.id = q.deal_id"
        f"  JOIN customers dc ON dc.tenant = dl.tenant AND dc.id = dl.customer_id"
        f"  WHERE q.tenant = {doc}.tenant"
        f"  AND q.id = {_subject_uuid(doc, 'quote')} AND {deal_seen})"
        f" OR EXISTS (SELECT 1 FROM handover_plans hp WHERE hp.tenant = {doc}.tenant"
        f"  AND hp.id = {_subject_uuid(doc, 'handover')} AND (hp.created_by = {me}"
        f"  OR EXISTS (SELECT 1 FROM handover_items hi WHERE hi.tenant = hp.tenant AND hi.plan_id = hp.id"
        f"   AND {me} IN (hi.from_membership_id, hi.to_membership_id)))))"
    )
