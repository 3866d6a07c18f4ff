from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.accounts.tables import PasswordReset, Session, User

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[User, Session, PasswordReset],
    migration_dependencies=["app.piccolo_app"],
)
