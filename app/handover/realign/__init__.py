"""Territory realignment (区域调整) through the handover machinery: plan → preview → execute.

``POST /api/v1/realignments`` drafts a handover plan of kind ``realign`` (see
:class:`~app.handover.schemas.RealignCreate` for move / merge / split and the owner rules). Its
``handover_items`` are every customer whose territory or owner the change touches: the customer, its
owner and ``updated_at`` as seen, the territory it ends in (``to_territory_id``; NULL when it stays
where it is, as in a move) and its owner afterwards (the same one when the owner works the territory
it ends in — is an active member of it or of one of its ancestors *in the tree after the change*, or
an owner/admin of the tenant). All of it is computed by one ``INSERT … SELECT`` over the tree with its
paths rewritten as they will be; only the capacity split of ``reassign`` is a per-territory quota in
Python (:func:`app.handover.assign.quotas`), applied by one ``UPDATE``.

Execute (inside :func:`app.handover.execute.execute_plan`'s transaction, under the plan lock and the
tenant's tree lock): refused with 409 while any customer is blocked (conflicts under ``keep``, no rep
to take it, ids not in the territory); stale (the tree moved since planning, or a customer changed
owner or was edited) → :class:`Stale`, so the caller plans it again and answers 409 with the fresh
preview. Then the new territory (split), the customers (territory and owner in one ``UPDATE``, the
ownership history appended in the same statement, cause ``handover`` with the plan id), their open
deals and envelopes (owner changes only), and the tree (paths rewritten in one ``UPDATE``; a merge
also moves B's members and references to A and deletes B). Only a manager of every affected subtree
(or an owner/admin) may plan or run it. A realignment cannot be undone: plan the reverse one.
"""
