from pathlib import Path

from piccolo.conf.apps import AppConfig

from tenants.billing.tables import StripeEvent

APP_CONFIG = AppConfig(
    app_name="billing",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[StripeEvent],
    migration_dependencies=["tenants.piccolo_app"],
)
