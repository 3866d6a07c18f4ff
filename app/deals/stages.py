"""Deal stages (DCMS) and the stage-change rules: pure functions, no I/O (unit-tested).

The tenant matrix says, for each open stage pair from→to, ``allowed``, ``approval`` or
``forbidden``. Defaults: one step forward allowed, more than one step forward needs approval,
backward allowed (a reason is always required backward, whatever the cell says). Two rules sit
outside the matrix: reaching negotiation or later needs an approved formal quote (switchable), and
won/lost are terminal (won only from signed; lost from any open stage, with a reason).
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

Stage = Literal[
    "prospect_list",
    "first_visit",
    "exchange_research",
    "demo",
    "formal_quote",
    "objections_cleared",
    "negotiation",
    "signed",
    "won",
    "lost",
]
Rule = Literal["allowed", "approval", "forbidden"]
OPEN_STAGES: Final[tuple[str, ...]] = (
    "prospect_list",
    "first_visit",
    "exchange_research",
    "demo",
    "formal_quote",
    "objections_cleared",
    "negotiation",
    "signed",
)
TERMINAL: Final = ("won", "lost")
PROBABILITY: Final[dict[str, int]] = {
    "prospect_list": 5,
    "first_visit": 10,
    "exchange_research": 20,
    "demo": 35,
    "formal_quote": 50,
    "objections_cleared": 65,
    "negotiation": 80,
    "signed": 100,
    "won": 100,
    "lost": 0,
}
LATE_STAGES: Final = OPEN_STAGES[OPEN_STAGES.index("demo") :]  # demo or later (the pool exemption)
QUOTE_GATE: Final = "negotiation"

Matrix = dict[str, dict[str, Rule]]


def index(stage: str) -> int:
    return OPEN_STAGES.index(stage)


def default_rule(frm: str, to: str) -> Rule:
    step = index(to) - index(frm)
    return "approval" if step > 1 else "allowed"


def default_matrix() -> Matrix:
    return {f: {t: default_rule(f, t) for t in OPEN_STAGES if t != f} for f in OPEN_STAGES}


class StageRules(msgspec.Struct, forbid_unknown_fields=True):
    """``matrix[from][to]``; cells left out take the defaults. ``require_approved_quote``: reaching
    negotiation (or later) needs an approved formal quote."""

    matrix: Matrix = msgspec.field(default_factory=dict)
    require_approved_quote: bool = True


def effective(rules: StageRules) -> Matrix:
    out = default_matrix()
    for frm, row in rules.matrix.items():
        for to, rule in row.items():
            if frm in out and to in out[frm]:
                out[frm][to] = rule
    return out


def bad_cell(rules: StageRules) -> str | None:
    """The first ``matrix.<from>.<to>`` naming an unknown or identical stage pair, else None."""
    for frm, row in rules.matrix.items():
        for to in row:
            if frm not in OPEN_STAGES or to not in OPEN_STAGES or frm == to:
                return f"matrix.{frm}.{to}"
    return None


Decision = Literal["allowed", "approval", "forbidden", "needs_reason", "needs_quote", "terminal", "same"]


def decide(rules: StageRules, frm: str, to: str, *, reason: str | None, has_approved_quote: bool) -> Decision:
    """What a move from ``frm`` to ``to`` needs. Checked in order: terminal/same stage, lost (needs a
    reason), won (only from signed), backward without a reason, the quote gate, then the matrix."""
    if frm in TERMINAL:
        return "terminal"
    if frm == to:
        return "same"
    has_reason = bool(reason and reason.strip())
    if to == "lost":
        return "allowed" if has_reason else "needs_reason"
    if to == "won":
        return "allowed" if frm == "signed" else "forbidden"
    backward = index(to) < index(frm)
    if backward and not has_reason:
        return "needs_reason"
    if (
        not backward
        and rules.require_approved_quote
        and index(to) >= index(QUOTE_GATE)
        and not has_approved_quote
    ):
        return "needs_quote"
    return effective(rules)[frm][to]
