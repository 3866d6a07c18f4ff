from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.outbound.tables import OUTBOUND_TABLES

APP_CONFIG = AppConfig(
    app_name="outbound",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=OUTBOUND_TABLES,
    migration_dependencies=["tenants.piccolo_app", "app.territories.piccolo_app"],
)
