from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.documents.tables import Document, DocumentTemplate

APP_CONFIG = AppConfig(
    app_name="documents",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[DocumentTemplate, Document],
    migration_dependencies=["tenants.piccolo_app"],
)
