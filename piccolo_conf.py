"""For the ``piccolo`` CLI run from the repository root; the application uses ``app.piccolo_conf``."""

from app.piccolo_conf import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
