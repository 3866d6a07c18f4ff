"""Putting SQL text together: positional parameters collected while a query is built."""

from __future__ import annotations

from typing import Any


class Params:
    """Positional parameters (``$1``, ``$2`` …) collected while a query is put together: calling it
    with a value appends the value and answers its placeholder. Values given to the constructor are
    ``$1`` … in order, so fixed placeholders can be written out before the collected ones."""

    def __init__(self, *values: Any) -> None:
        self.values: list[Any] = list(values)

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"
