from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.sales.field.tables import FIELD_TABLES
from app.sales.growth.tables import GROWTH_TABLES

APP_CONFIG = AppConfig(
    app_name="sales",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[*FIELD_TABLES, *GROWTH_TABLES],
    migration_dependencies=[
        "app.customers.piccolo_app",
        "app.deals.piccolo_app",
        "app.signing.piccolo_app",
        "app.handover.piccolo_app",
    ],
)
