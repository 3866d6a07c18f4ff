"""``create_app()``: the Litestar application — routes, error handling, lifecycle of the shared
resources (database pool, ARQ Redis pool, storage, outbox relay); it calls ``app.wiring.wire()``.

Redis is not needed to start or to serve: the ARQ pool connects on first use (the outbox keeps jobs
while Redis is away) and the rate limits fall back to process memory (``app.rate_store``)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig

from app import db, rate_limits, redis_conn
from app.accounts import lockout
from app.customers.imports.routes import ROUTES as CUSTOMER_IMPORT_ROUTES
from app.customers.pool.routes import ROUTES as POOL_ROUTES
from app.customers.routes import ROUTES as CUSTOMER_ROUTES
from app.deals.routes import ROUTES as DEAL_ROUTES
from app.documents.routes import ROUTES as DOCUMENT_ROUTES
from app.errors import EXCEPTION_HANDLERS
from app.handover.routes import ROUTES as HANDOVER_ROUTES
from app.leads.routes import ROUTES as LEAD_ROUTES
from app.metrics import http_metrics
from app.notifications.routes import ROUTES as NOTIFICATION_ROUTES
from app.nul_guard import refuse_nul
from app.observability import configure_logging, init_sentry, request_id_middleware
from app.openapi import ProblemRules, StrictStructSchemaPlugin, declare_problems
from app.outbound.routes import ROUTES as OUTBOUND_ROUTES
from app.outbox import RelayLoop
from app.sales.field.routes import ROUTES as FIELD_ROUTES
from app.sales.growth.routes import ROUTES as GROWTH_ROUTES
from app.security_headers import security_headers
from app.settings import Settings, get_settings
from app.signing.pages import ROUTES as SIGNING_PAGES
from app.signing.routes import ROUTES as SIGNING_ROUTES
from app.storage import create_storage
from app.system_routes import bench_bare, health, local_file, metrics_route, ready
from app.territories.routes import ROUTES as TERRITORY_ROUTES
from app.web.language import remember_language
from app.web.routes import ROUTES as WEB_ROUTES
from app.wiring import wire
from tenants import key_scopes
from tenants.billing.entitlements import refuses_when_read_only
from tenants.billing.routes import BENCH_ROUTES as BILLING_BENCH_ROUTES
from tenants.billing.routes import ROUTES as BILLING_ROUTES
from tenants.routes import ROUTES as TENANT_ROUTES
from tenants.scope import SCOPED

_DOCS = "/schema"  # the API docs; their pages get headers of their own (app.security_headers)


def _tune_templates(settings: Settings) -> Callable[[JinjaTemplateEngine], None]:
    """Templates are compiled once and kept: no file check on every render and include, except in
    development, where an edited template shows at the next request."""

    def tune(engine: JinjaTemplateEngine) -> None:
        engine.engine.auto_reload = settings.environment == "development"

    return tune


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    wire()

    configure_logging(settings)
    sentry = init_sentry(settings, "api")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.start(settings.database_url, settings.database_pool_size)
        app.state.arq = redis_conn.arq_client(settings, socket_connect_timeout=2)
        app.state.storage = create_storage(settings)
        app.state.relay = RelayLoop(app.state.arq)
        app.state.relay.start()
        # What startup made (routes, templates, catalogs: ~230,000 objects) lives as long as the
        # process: frozen, a full garbage collection no longer walks it. Each one did, for hundreds of
        # ms of CPU on the shared test machine, a pause every request in flight waited out (the pool
        # page's p99 under load; tests/bench/bench_request_path.py).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await app.state.relay.stop()
            await app.state.arq.aclose(close_connection_pool=True)
            await lockout.close()
            await db.stop()

    bench = [bench_bare, *BILLING_BENCH_ROUTES] if settings.bench_bare_body_file else []
    app = Litestar(
        route_handlers=[
            health,
            ready,
            metrics_route,
            local_file,
            *bench,
            *TENANT_ROUTES,
            *BILLING_ROUTES,
            *TERRITORY_ROUTES,
            *CUSTOMER_ROUTES,
            *DOCUMENT_ROUTES,
            *WEB_ROUTES,
            *POOL_ROUTES,
            *NOTIFICATION_ROUTES,
            *CUSTOMER_IMPORT_ROUTES,
            *SIGNING_ROUTES,
            *SIGNING_PAGES,
            *DEAL_ROUTES,
            *HANDOVER_ROUTES,
            *FIELD_ROUTES,
            *GROWTH_ROUTES,
            *LEAD_ROUTES,
            *OUTBOUND_ROUTES,
        ],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=refuse_nul,
        plugins=[StrictStructSchemaPlugin()],
        stores=rate_limits.stores(settings),
        template_config=TemplateConfig(
            directory=Path(__file__).parent / "web" / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=_tune_templates(settings),
        ),
        openapi_config=OpenAPIConfig(
            title="Acre API",
            version="1",
            path=_DOCS,
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        debug=False,
    )
    rules = ProblemRules(
        session_dependency=next(iter(SCOPED)),
        refused_when_read_only=refuses_when_read_only,
        key_scope_opt=key_scopes.OPT_KEY,
    )
    declare_problems(app, rules)
    rate_limits.install(app, settings)
    # Around the router and its exception handling, not in the route middleware: unknown routes and
    # errors raised by middleware (the rate limiter's 429) answer without passing route middleware.
    app.asgi_handler = request_id_middleware(
        http_metrics(security_headers(remember_language(app.asgi_handler), docs_path=_DOCS)), sentry=sentry
    )
    return app
