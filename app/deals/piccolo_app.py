from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.deals.tables import (
    Approval,
    Collection,
    CollectionPayment,
    CommissionRules,
    CommissionSplit,
    CommissionSplitShare,
    ContractTerms,
    Deal,
    DealContract,
    DealServicePeriod,
    DealStageChange,
    DealStageRules,
    Product,
    Quote,
    QuoteLine,
    VendorRegistration,
)

APP_CONFIG = AppConfig(
    app_name="deals",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Product,
        Deal,
        DealStageChange,
        DealStageRules,
        Quote,
        QuoteLine,
        Approval,
        ContractTerms,
        DealContract,
        Collection,
        CollectionPayment,
        VendorRegistration,
        CommissionRules,
        CommissionSplit,
        CommissionSplitShare,
        DealServicePeriod,
    ],
    migration_dependencies=[
        "app.customers.piccolo_app",
        "app.notifications.piccolo_app",
        "app.documents.piccolo_app",
    ],
)
