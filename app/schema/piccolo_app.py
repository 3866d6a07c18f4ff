from pathlib import Path

from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="schema",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[],
    # every other app: Piccolo sorts the apps by these, so this one runs last on a fresh database
    # (tests/unit/test_migration_order.py)
    migration_dependencies=[
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
    ],
)
