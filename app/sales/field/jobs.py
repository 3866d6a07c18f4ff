"""Worker jobs of field work: the weekly territory reports and the daily briefings (crons, each
idempotent), and their one-tenant variants (jobs, also used by tests)."""

from app.sales.field.briefings import briefings_for, daily_briefings
from app.sales.field.weekly_reports import weekly_reports_for, weekly_territory_reports

__all__ = ["briefings_for", "daily_briefings", "weekly_reports_for", "weekly_territory_reports"]
