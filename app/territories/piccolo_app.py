from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.territories.tables import InvitationTerritory, Territory, TerritoryMember

APP_CONFIG = AppConfig(
    app_name="territories",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Territory, TerritoryMember, InvitationTerritory],
    migration_dependencies=["tenants.piccolo_app"],
)
