from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.signing.tables import (
    Envelope,
    EnvelopeEvent,
    EnvelopeLink,
    EnvelopeSigner,
    OwnershipStatement,
    SealIndexEntry,
    TenantSigningKey,
)

APP_CONFIG = AppConfig(
    app_name="signing",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Envelope,
        EnvelopeSigner,
        EnvelopeEvent,
        EnvelopeLink,
        TenantSigningKey,
        SealIndexEntry,
        OwnershipStatement,
    ],
    migration_dependencies=["app.documents.piccolo_app"],
)
