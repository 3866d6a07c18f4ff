from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.signing.tables import Envelope, EnvelopeEvent, EnvelopeSigner

APP_CONFIG = AppConfig(
    app_name="signing",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Envelope, EnvelopeSigner, EnvelopeEvent],
    migration_dependencies=["app.documents.piccolo_app"],
)
