from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.leads.tables import Lead, LeadForm, LeadRequest

APP_CONFIG = AppConfig(
    app_name="leads",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[LeadForm, LeadRequest, Lead],
    migration_dependencies=["app.customers.piccolo_app"],
)
