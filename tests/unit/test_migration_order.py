"""The ``schema`` app's migrations run after every other app's (``app/schema/``): they change tables
of all the apps, so on a fresh database each app's tables must exist first."""

from __future__ import annotations

import os

from piccolo.apps.migrations.commands.base import BaseMigrationManager


def test_the_schema_app_runs_last_and_depends_on_every_other_app() -> None:
    os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")
    from app.piccolo_conf import APP_REGISTRY

    order = BaseMigrationManager().get_sorted_app_names()
    assert order[-1] == "schema", order
    schema = APP_REGISTRY.get_app_config("schema")
    depends = {config.app_name for config in schema.migration_dependency_app_configs}
    assert depends == set(order) - {"schema"}, "add the new app to app/schema/piccolo_app.py"
