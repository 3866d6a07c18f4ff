"""ARQ worker configuration: the job registry and cron schedule, as plain data; ``worker_settings()``
also wires the domains (``app.wiring.wire()``), as the jobs run their hooks and providers.

Jobs are at-least-once: each takes ids, checks state first and is idempotent. Each job has its own
timeout (``func(..., timeout=...)``; the rest get ``job_timeout``); a job whose claim in the database
outlives it takes that claim as abandoned. The worker itself is ``workers.worker.Worker``."""

from __future__ import annotations

import dataclasses
from datetime import UTC
from typing import Any

from arq import cron
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, func

from app import db, outbox, redis_conn
from app.customers.anchors import ANCHOR_CRON_TIMEOUT_SECONDS, anchor_ledgers
from app.customers.imports.job import IMPORT_TIMEOUT_SECONDS, run_customer_import
from app.customers.pool.jobs import reclaim_sweep, reclaim_warnings
from app.deals.registrations.reminders import registration_reminders
from app.deals.reminders import collection_reminders
from app.documents.jobs import ARQ_TIMEOUT_SECONDS as RENDER_TIMEOUT_SECONDS
from app.documents.jobs import render_document, worker_shutdown, worker_startup
from app.handover.sheet import handover_sheet
from app.handover.sheet_signing import handover_sheet_sign
from app.leads.jobs import purge_lead_requests
from app.mail import TIMEOUT_SECONDS as MAIL_TIMEOUT_SECONDS
from app.mail import send_email
from app.metrics import timed_job
from app.observability import configure_logging, init_sentry
from app.outbound.chat import post_chat
from app.outbound.delivery import deliver_event, deliver_webhook
from app.sales.field.jobs import briefings_for, daily_briefings, weekly_reports_for, weekly_territory_reports
from app.sales.growth.jobs import cadence_tasks
from app.sales.growth.renewals import renewal_sweep
from app.settings import get_settings
from app.signing.jobs import complete_envelope, signing_expiry, signing_reminders
from app.signing.statements import monthly_statements, ownership_statement
from app.wiring import wire
from tenants.billing.jobs import (
    handle_stripe_event,
    raise_subscription_seats,
    reconcile_seats,
    requeue_stripe_events,
)
from workers import metrics as worker_metrics


async def relay_outbox(ctx: dict[str, Any]) -> int:
    """Cron: relay outbox rows the API could not (Redis was down, or the API died after commit)."""
    return await outbox.relay(ctx["redis"])


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    configure_logging(settings)
    init_sentry(settings, "worker")
    await db.start(settings.database_url, settings.database_pool_size)
    await worker_startup(ctx)
    ctx["metrics_server"] = await worker_metrics.start(ctx, settings)


async def shutdown(ctx: dict[str, Any]) -> None:
    if server := ctx.get("metrics_server"):
        server.close()
    await worker_shutdown(ctx)
    await db.stop()


FUNCTIONS: list[Function | WorkerCoroutine] = [func(send_email, timeout=MAIL_TIMEOUT_SECONDS)]
FUNCTIONS += [handle_stripe_event, raise_subscription_seats]
FUNCTIONS += [func(render_document, timeout=RENDER_TIMEOUT_SECONDS)]
FUNCTIONS += [func(run_customer_import, timeout=IMPORT_TIMEOUT_SECONDS)]
FUNCTIONS += [complete_envelope, ownership_statement]
FUNCTIONS += [deliver_event, deliver_webhook]  # outbound: an event's first attempts; each retry a job
FUNCTIONS += [post_chat]  # team chat: retried by ARQ (max_tries) when the robot refuses
FUNCTIONS += [handover_sheet, handover_sheet_sign]
FUNCTIONS += [weekly_reports_for, briefings_for]  # sales field work: one tenant at a time
# Each period of a cron job runs once however many workers there are: every worker schedules it, under
# the job id ``cron:<name>:<period in ms>`` (``unique=True``), and ARQ queues an id once while its job
# or its result is in Redis. ARQ keeps no result of a cron job by default, so a worker that schedules a
# period late (its event loop held up past ARQ's 1 s window, or its clock behind), after another worker
# ran it, would queue it again, and it would run a second time once the first run's in-progress mark
# (60 s) lapsed; the result is kept for ``CRON_RESULT_SECONDS`` instead. The schedule is in UTC whatever
# the host's time zone (ARQ's default is the system's): a worker in another zone would run
# cadence_tasks at another hour, and with a worker in each zone, twice a day.
CRON_TIMEZONE = UTC
CRON_RESULT_SECONDS = 3600


def _cron(coroutine: WorkerCoroutine, **schedule: Any) -> CronJob:
    return cron(coroutine, unique=True, keep_result=CRON_RESULT_SECONDS, **schedule)


CRON_JOBS = [_cron(relay_outbox, second=set(range(0, 60, 5)), run_at_startup=True)]
CRON_JOBS += [
    _cron(requeue_stripe_events, second=30),
    _cron(reconcile_seats, minute=17, second=0),
]
CRON_JOBS += [  # e-signature: hourly, idempotent
    _cron(signing_reminders, minute=10, second=0),
    _cron(signing_expiry, minute=40, second=0),
]
CRON_JOBS += [  # the ownership ledger: its heads timestamped by the RFC 3161 authority, daily
    _cron(anchor_ledgers, hour=0, minute=20, second=0, timeout=ANCHOR_CRON_TIMEOUT_SECONDS),
    _cron(monthly_statements, minute=30, second=0),  # hourly: on each tenant's local 1st, the month before
]
CRON_JOBS += [  # the pool: both idempotent and safe to overlap
    _cron(reclaim_sweep, minute=5, second=0),
    _cron(reclaim_warnings, minute=35, second=0),
]
CRON_JOBS += [  # deals: the daily collection digests (hourly; once per owner and local day)
    _cron(collection_reminders, minute=25, second=0),
    _cron(registration_reminders, minute=27, second=0),  # vendor registrations ending (once per end date)
    _cron(renewal_sweep, minute=29, second=0),  # renewals before a service period ends (once per period)
]
CRON_JOBS += [  # sales: the daily cadence tasks (04:50 in China; idempotent)
    _cron(cadence_tasks, hour=20, minute=50, second=0),
]
CRON_JOBS += [_cron(purge_lead_requests, minute=55, second=0)]  # leads: a week of Idempotency-Keys
CRON_JOBS += [  # sales field work: weekly territory reports (Mondays, hourly), daily briefings (hourly)
    _cron(weekly_territory_reports, weekday="mon", minute=45, second=0),
    _cron(daily_briefings, minute=15, second=0),
]


# An idle worker polls this often for what no wake announces (deferred jobs, retries, crons): a job
# relayed after commit wakes it at once (``workers.worker``, the wake channel). Polling every 5 ms
# instead cost an idle worker ~5% of a core.
POLL_DELAY_SECONDS = 0.5


def max_jobs(unoserver_count: int) -> int:
    """Jobs one worker runs at once: one per warm converter plus one (rendering or uploading while the
    converters work), so surplus documents stay in Redis for another worker instead of queueing here
    for a converter. Every job kind shares these slots (a long import holds one)."""
    return max(2, unoserver_count + 1)


def _timed(job: Function | WorkerCoroutine) -> Function:
    """``job`` counted and timed in the job metrics (``app.metrics.timed_job``) under ARQ's name for it."""
    function = job if isinstance(job, Function) else func(job)
    return dataclasses.replace(function, coroutine=timed_job(function.name, function.coroutine))


def _timed_cron(job: CronJob) -> CronJob:
    return dataclasses.replace(job, coroutine=timed_job(job.name, job.coroutine))


def worker_settings() -> dict[str, Any]:
    """Settings for ``arq.Worker`` built from the environment (queue name and Redis); wires the domains."""
    wire()
    settings = get_settings()
    return {
        "poll_delay": POLL_DELAY_SECONDS,
        "max_jobs": max_jobs(settings.unoserver_count),
        "functions": [_timed(f) for f in FUNCTIONS],
        "cron_jobs": [_timed_cron(c) for c in CRON_JOBS],
        "timezone": CRON_TIMEZONE,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": redis_conn.arq_settings(settings),
        "queue_name": settings.queue_name,
        "max_tries": 5,
        "job_timeout": 300,
        "keep_result": 3600,
        "heartbeat_file": settings.worker_heartbeat_file,
    }
