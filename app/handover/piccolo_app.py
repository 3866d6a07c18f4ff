from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.handover.tables import (
    HandoverCarried,
    HandoverDeal,
    HandoverEnvelope,
    HandoverItem,
    HandoverPlan,
    HandoverReadGrant,
)

APP_CONFIG = AppConfig(
    app_name="handover",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        HandoverPlan,
        HandoverItem,
        HandoverDeal,
        HandoverEnvelope,
        HandoverReadGrant,
        HandoverCarried,
    ],
    migration_dependencies=[
        "app.customers.piccolo_app",
        "app.deals.piccolo_app",
        "app.signing.piccolo_app",
    ],
)
