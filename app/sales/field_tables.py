"""Piccolo descriptions of the field-work tables (visit plans, daily reports, incidents, weekly reports,
targets). The schema itself is the hand-written SQL migration."""

from piccolo.table import Table

FIELD_TABLES: list[type[Table]] = []
