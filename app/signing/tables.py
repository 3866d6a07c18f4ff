"""E-signature tables (tenant tables under RLS; the schema is the SQL migration). Services use SQL."""

from piccolo.columns import JSONB, UUID, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class Envelope(Table, tablename="envelopes", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    document_id = UUID()
    customer_id = UUID(null=True)
    title = Varchar(length=300)
    status = Varchar(length=12)
    signing_order = Varchar(length=12)
    cc = JSONB()
    expires_at = Timestamptz(null=True)
    created_at = Timestamptz()


class EnvelopeSigner(Table, tablename="envelope_signers", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    envelope_id = UUID()
    position = Integer()
    name = Varchar(length=200)
    email = Varchar(length=320)
    locale = Varchar(length=10)
    status = Varchar(length=10)


class EnvelopeEvent(Table, tablename="envelope_events", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    envelope_id = UUID()
    seq = Integer()
    event = Varchar(length=20)
    data = JSONB()
    hash = Text()
