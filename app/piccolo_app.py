from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.tables import AccountEmail, AuditEntry, Email, OutboxJob

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[OutboxJob, Email, AccountEmail, AuditEntry],
    migration_dependencies=[],
)
