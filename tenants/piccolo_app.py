from pathlib import Path

from piccolo.conf.apps import AppConfig

from tenants.tables import ApiKey, CompanyProfileVersion, Invitation, Membership, Tenant

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Tenant, Membership, Invitation, CompanyProfileVersion, ApiKey],
    migration_dependencies=["app.accounts.piccolo_app"],
)
