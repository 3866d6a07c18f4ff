"""Piccolo's configuration: the engine the tables are bound to, and the apps whose migrations run."""

from piccolo.conf.apps import AppRegistry

from app.db import DB

__all__ = ["APP_REGISTRY", "DB"]

APP_REGISTRY = AppRegistry(
    apps=[
        "app.piccolo_app",
        "app.accounts.piccolo_app",
        "tenants.piccolo_app",
        "tenants.billing.piccolo_app",
        "app.territories.piccolo_app",
        "app.customers.piccolo_app",
        "app.notifications.piccolo_app",
        "app.documents.piccolo_app",
        "app.deals.piccolo_app",
        "app.signing.piccolo_app",
        "app.handover.piccolo_app",
        "app.sales.piccolo_app",
        "app.leads.piccolo_app",
        "app.outbound.piccolo_app",
        "app.schema.piccolo_app",  # depends on all the others: runs last
    ]
)
