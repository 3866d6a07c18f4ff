"""The stage matrix defaults and the rules outside it."""

from __future__ import annotations

import itertools

import pytest

from app.deals.stages import OPEN_STAGES, PROBABILITY, StageRules, bad_cell, decide, default_matrix, effective

R = StageRules()


def _d(frm: str, to: str, reason: str | None = None, quoted: bool = False, rules: StageRules = R) -> str:
    return decide(rules, frm, to, reason=reason, has_approved_quote=quoted)


def test_one_step_forward_is_allowed() -> None:
    for frm, to in itertools.pairwise(OPEN_STAGES[:6]):
        assert _d(frm, to) == "allowed", (frm, to)


def test_skipping_needs_approval() -> None:
    assert _d("prospect_list", "exchange_research") == "approval"
    assert _d("first_visit", "formal_quote") == "approval"


def test_negotiation_without_an_approved_formal_quote_is_refused_even_one_step() -> None:
    assert _d("objections_cleared", "negotiation") == "needs_quote"
    assert _d("demo", "negotiation") == "needs_quote"
    assert _d("objections_cleared", "negotiation", quoted=True) == "allowed"
    assert _d("formal_quote", "negotiation", quoted=True) == "approval"
    assert (
        _d("objections_cleared", "negotiation", rules=StageRules(require_approved_quote=False)) == "allowed"
    )


def test_backward_needs_a_reason() -> None:
    assert _d("demo", "first_visit") == "needs_reason"
    assert _d("demo", "first_visit", reason="  ") == "needs_reason"
    assert _d("demo", "first_visit", reason="客户预算推迟") == "allowed"


def test_terminal_and_same_stage() -> None:
    assert _d("won", "demo") == "terminal"
    assert _d("lost", "demo", reason="x") == "terminal"
    assert _d("demo", "demo") == "same"
    assert _d("demo", "lost") == "needs_reason"
    assert _d("demo", "lost", reason="选了竞争对手") == "allowed"
    assert _d("negotiation", "won") == "forbidden"
    assert _d("signed", "won") == "allowed"


def test_tenant_cells_override_defaults() -> None:
    rules = StageRules(matrix={"first_visit": {"exchange_research": "forbidden", "demo": "allowed"}})
    assert _d("first_visit", "exchange_research", rules=rules) == "forbidden"
    assert _d("first_visit", "demo", rules=rules) == "allowed"
    assert _d("prospect_list", "first_visit", rules=rules) == "allowed"
    assert effective(rules)["first_visit"]["demo"] == "allowed"
    assert default_matrix()["first_visit"]["demo"] == "approval"


@pytest.mark.parametrize(
    "matrix", [{"nowhere": {"demo": "allowed"}}, {"demo": {"won": "allowed"}}, {"demo": {"demo": "allowed"}}]
)
def test_bad_cells_are_named(matrix: dict[str, dict[str, str]]) -> None:
    assert bad_cell(StageRules(matrix=matrix)) is not None  # type: ignore[arg-type]


def test_default_probabilities_rise_by_stage() -> None:
    values = [PROBABILITY[s] for s in OPEN_STAGES]
    assert values == sorted(values) and values[0] == 5 and values[-1] == 100
    assert PROBABILITY["lost"] == 0
