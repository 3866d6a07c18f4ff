"""Contract terms per deal and the collection items (回款) they become once the deal is signed:
``terms`` (the terms and their milestones), ``items`` (the items and their lists), ``payments``.

Terms default from the customer (Party A) and the handbook: one year of free same-version upgrades,
on-site service chargeable, payment milestones by ``money.milestones``. The contract's total is the
chosen quote's total, else the deal amount. The milestones may be edited (``put_milestones``: they
must add up to the total; frozen once collections started). ``items.start_collections`` (called when the
deal reaches signed) turns them into collection items with due dates; it is idempotent.

Items are listed across deals (``list_collections``, ``overdue_groups`` by rep and territory) with
the deals' visibility; payments (``mark_paid``) may be partial, in the item's currency, never more
than is outstanding; the item is paid when they reach its amount.
"""
