"""The subtree rule, once: which territories lie below a territory.

A territory's ``path`` is the ids of the root … the node itself, each as 32 hex digits and ``/``
(``app/territories/tree.py``), stored ``COLLATE "C"`` and indexed on ``(tenant, path)``. The whole
subtree of a node, the node itself included, is therefore the btree range
``path >= node.path AND path < node.path || '~'`` (``~`` sorts after ``/`` and every hex digit): one
index range scan on core PostgreSQL. Every query that needs a subtree takes this condition from
:func:`in_subtree_sql`; a unit test fails when it is written out anywhere else.

Sharp edges: the condition has no tenant in it — join or filter the tenant beside it; and it holds
for the node itself (exclude ``t.id = a.id`` where "strictly below" is meant).
"""

from __future__ import annotations

from uuid import UUID

from app.db import Tx
from app.errors import NotFound

SUBTREE_END = "~"  # sorts after "/" and every hex digit under the "C" collation


def in_subtree_sql(path: str, of: str) -> str:
    """A SQL condition: the path expression ``path`` lies in the subtree at the path expression
    ``of`` (``of`` itself included), e.g. ``in_subtree_sql("t.path", of="a.path")`` or
    ``in_subtree_sql("path", of="$2")``. Both are pasted into the SQL as given."""
    return f"({path} >= {of} AND {path} < {of} || '{SUBTREE_END}')"


def territory_in_subtree_sql(path_param: str, column: str = "c.territory_id") -> str:
    """A condition: the territory id ``column`` lies in the subtree at the path parameter
    ``path_param`` (the tenant is ``$1``)."""
    return (
        f"{column} IN (SELECT t.id FROM territories t WHERE t.tenant = $1"
        f" AND {in_subtree_sql('t.path', of=path_param)})"
    )


async def territory_path(tx: Tx, tenant: UUID, territory_id: UUID) -> str:
    """The path of a territory of the tenant (filters take its subtree), else 404."""
    path = await tx.fetchval(
        "SELECT path FROM territories WHERE tenant = $1 AND id = $2", tenant, territory_id
    )
    if path is None:
        raise NotFound("No territory with this id")
    return str(path)
