from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.customers.tables import (
    CrossTerritoryGrant,
    CrossTerritoryRequest,
    Customer,
    CustomerConflict,
    CustomerContact,
    CustomerFollowup,
    CustomerGradeChange,
    CustomerImport,
    CustomerImportRow,
    OwnershipAnchor,
    OwnershipEntry,
    Pool,
    PoolAdmin,
    PoolCapOverride,
    PoolReleaseReason,
    PoolRuleSet,
    PoolScope,
    TerritoryDivision,
)

APP_CONFIG = AppConfig(
    app_name="customers",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Customer,
        CustomerGradeChange,
        CustomerContact,
        CustomerFollowup,
        CustomerConflict,
        OwnershipEntry,
        OwnershipAnchor,
        PoolRuleSet,
        Pool,
        PoolScope,
        PoolAdmin,
        PoolCapOverride,
        PoolReleaseReason,
        CrossTerritoryGrant,
        CrossTerritoryRequest,
        CustomerImport,
        CustomerImportRow,
        TerritoryDivision,
    ],
    migration_dependencies=["app.territories.piccolo_app"],
)
