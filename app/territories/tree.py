"""The materialized path of a territory, as pure functions.

A path is the ids of the root … the node itself, each as 32 hex digits followed by ``/``
(``"<root hex>/<child hex>/"``). It is stored ``COLLATE "C"`` and indexed on ``(tenant, path)``,
so the whole subtree of a node (itself included) is one btree range: its SQL condition is
``tenants.access.in_subtree_sql``, and :func:`is_within` is the same test in Python.
"""

from __future__ import annotations

from uuid import UUID

SEGMENT = 33  # 32 hex digits + "/"
MAX_DEPTH = 12


def segment(territory_id: UUID) -> str:
    return territory_id.hex + "/"


def child_path(parent_path: str | None, territory_id: UUID) -> str:
    return (parent_path or "") + segment(territory_id)


def ids_of(path: str) -> list[UUID]:
    """The ids on the path, root first, the node itself last."""
    return [UUID(hex=part) for part in path.split("/") if part]


def depth(path: str) -> int:
    """1 for a top-level territory."""
    return len(path) // SEGMENT


def is_within(path: str, ancestor_path: str) -> bool:
    """True when ``path`` is ``ancestor_path`` itself or lies in its subtree."""
    return path.startswith(ancestor_path)
