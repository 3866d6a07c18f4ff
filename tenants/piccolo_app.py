from pathlib import Path

from piccolo.conf.apps import AppConfig

from tenants.tables import Invitation, Membership, Tenant

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Tenant, Membership, Invitation],
    migration_dependencies=["app.accounts.piccolo_app"],
)
