"""The benchmark runner's bookkeeping (the benchmarks themselves never run in the suite)."""

from __future__ import annotations

import json

from tests.bench import run_all
from tests.conftest import ROOT


def test_every_benchmark_script_is_run() -> None:
    scripts = {p.stem.removeprefix("bench_") for p in (ROOT / "tests" / "bench").glob("bench_*.py")}
    names = [b.name for b in run_all.BENCHES]
    assert scripts - {"datagen"} == set(names) and len(names) == len(set(names))


def test_ratios_are_found_nested_and_goals_are_not_figures() -> None:
    line = {
        "bench": "x",
        "ratio_page_vs_api": 1.4,
        "goal_ratio": 1.5,
        "claims": {"ratio_claims_vs_bare": 0.4, "rps": 900},
        "ratios": {"render_vs_raw": 1.2, "label": "n/a"},
        "seal_vs_bare_ratio": 0.15,
        "flag_ratio": True,
    }
    assert run_all.ratios(line) == {
        "ratio_page_vs_api": 1.4,
        "claims.ratio_claims_vs_bare": 0.4,
        "ratios.render_vs_raw": 1.2,
        "seal_vs_bare_ratio": 0.15,
    }


def test_a_regression_is_judged_in_the_ratios_own_direction() -> None:
    timing, throughput = "pipeline.ratio_all_vs_sql", "pool.ratio_pool_vs_bare"
    assert throughput in run_all.HIGHER_IS_BETTER and timing not in run_all.HIGHER_IS_BETTER
    assert run_all.regressed(timing, 1.25, 1.0) and not run_all.regressed(timing, 1.15, 1.0)
    assert not run_all.regressed(timing, 0.5, 1.0)  # faster is never a regression
    assert run_all.regressed(throughput, 0.75, 1.0) and not run_all.regressed(throughput, 0.85, 1.0)
    assert not run_all.regressed(throughput, 2.0, 1.0)


def test_the_accepted_baseline_names_only_known_benchmarks() -> None:
    accepted = json.loads(run_all.BASELINE.read_text())
    names = {b.name for b in run_all.BENCHES}
    for mode in accepted.values():
        assert {key.split(".", 1)[0] for key in mode} <= names
        assert all(isinstance(v, float | int) for v in mode.values())
