"""The Piccolo ``Table`` classes describe the migrated schema exactly (``tests/table_drift.py``), and
a class that drifts is reported, one line per difference."""

from __future__ import annotations

from piccolo.columns import UUID, BigSerial, Bytea, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.table import Table

from app.customers.tables import OwnershipEntry
from app.db import DB
from app.table_schema import Index
from tenants.tables import Tenant
from tests.helpers import connect
from tests.table_drift import drift, registered_tables


async def test_the_table_classes_describe_the_migrated_schema(stack) -> None:
    async with connect(stack.admin_url) as conn:
        problems = await drift(conn, registered_tables())
    report = "\n".join(problems)
    assert problems == [], f"the Table classes differ from the migrated schema (which is right):\n{report}"


class DriftedLedger(Table, tablename="customer_ownership_history", db=DB):
    """``OwnershipEntry`` with one drift of each kind (the comments say which)."""

    # ON DELETE CASCADE, not NO ACTION
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.cascade, on_update=OnUpdate.no_action
    )
    id = BigSerial(primary_key=True)
    seq = Integer(default=None)  # integer, not bigint
    customer_id = UUID(null=True, default=None)  # nullable
    from_membership_id = UUID(null=True, default=None)
    to_membership_id = UUID(null=True, default=None)
    cause = Varchar(length=10, default="claim")  # a default the database lacks
    actor = UUID(null=True, default=None)
    reason = Text(null=True, default=None)
    # plan_id missing
    at = Timestamptz()
    prev_hash = Bytea(default=None)
    hash = Bytea(default=None)
    pool_id = UUID(null=True, default=None)
    signature = Bytea(null=True, default=None)  # not in the database
    # UNIQUE (tenant, seq) missing
    customer_ownership_history_claims = Index("(tenant, to_membership_id, at) WHERE cause = 'release'")
    customer_ownership_history_customer = Index("(tenant, customer_id, seq)")
    customer_ownership_history_from = Index("(tenant, from_membership_id, seq)")
    customer_ownership_history_to = Index("(tenant, to_membership_id, seq)")
    customer_ownership_history_at = Index("(tenant, at)")  # not in the database


class Ghost(Table, tablename="ghost_rows", db=DB):
    id = UUID(primary_key=True, null=True)


async def test_every_kind_of_drift_is_reported(stack) -> None:
    async with connect(stack.admin_url) as conn:
        problems = await drift(conn, [OwnershipEntry, DriftedLedger, Ghost])
        assert await conn.fetchval("SELECT to_regnamespace('acre_table_classes')") is None  # rolled back

    ledger = "customer_ownership_history"
    drifted = "DriftedLedger (tests.integration.test_table_classes)"
    ghost = "Ghost (tests.integration.test_table_classes)"
    assert set(problems) - {p for p in problems if p.startswith("table ")} == {
        f"OwnershipEntry (app.customers.tables) and {drifted} both describe table {ledger}",
        f"ghost_rows.id: a primary key column, yet null=True in {ghost}",
        f"{ghost}: describes table ghost_rows, which the migrations do not make",
        f"{ledger}.plan_id: in the database, missing from {drifted}",
        f"{ledger}.signature: in {drifted}, not in the database",
        f"{ledger}.seq: type bigint in the database, integer in {drifted}",
        f"{ledger}.customer_id: NOT NULL in the database, nullable in {drifted}",
        f"{ledger}.cause: default none in the database, 'claim'::character varying in {drifted}",
        f"{ledger}: constraint {ledger}_tenant_seq_key UNIQUE (tenant, seq) in the database,"
        f" missing from {drifted}",
        f"{ledger}: constraint {ledger}_tenant_fkey is FOREIGN KEY (tenant) REFERENCES tenants(id) in the"
        f" database, FOREIGN KEY (tenant) REFERENCES tenants(id) ON DELETE CASCADE in {drifted}",
        f"{ledger}: index {ledger}_claims is USING btree (tenant, to_membership_id, at)"
        f" WHERE ((cause)::text = 'claim'::text) in the database, USING btree (tenant, to_membership_id, at)"
        f" WHERE ((cause)::text = 'release'::text) in {drifted}",
        f"{ledger}: index {ledger}_at USING btree (tenant, at) in {drifted}, not in the database",
    }
    # the tables no class was given for
    assert "table customers: made by the migrations, described by no Table class" in problems
    assert not any(p.startswith(f"table {ledger}:") for p in problems)
