"""Contract terms per deal, its contracts, and the collection items (回款) they become once the deal is
signed: ``terms`` (the terms, their milestones, a contract's money), ``contracts`` (what each contract
was rendered with, and the signed one), ``items`` (the items and their lists), ``payments``.

Terms default from the customer (Party A) and the handbook: one year of free same-version upgrades,
on-site service chargeable, payment milestones by ``money.milestones``. A contract's money is its
``terms.Figures``: the quote it is rendered from (the one chosen in the terms, else the latest sent or
approved, else the latest), its total and currency — without a quote the deal's amount and currency —
and the payment plan. Once the deal's contract is signed its frozen figures are the truth
(``terms.signed_figures``, ``contracts.freeze``). The milestones may be edited (``put_milestones``: they
must add up to the total; frozen once the contract is signed or collections started).
``items.start_collections`` (called when the deal reaches signed) turns the signed milestones into
collection items with due dates; it is idempotent.

Items are listed across deals (``list_collections``, ``overdue_groups`` by rep and territory) with
the deals' visibility; payments (``mark_paid``) may be partial, in the item's currency, never more
than is outstanding; the item is paid when they reach its amount.
"""
