"""Piccolo descriptions of the growth tables (cadences, tasks, referrals, return visits). The schema
itself is the hand-written SQL migration."""

from piccolo.table import Table

GROWTH_TABLES: list[type[Table]] = []
