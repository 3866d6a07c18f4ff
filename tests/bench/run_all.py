"""Run every benchmark, print one table of its ratios against their same-run baselines, and flag
any ratio more than 20% worse than the last accepted one in ``tests/bench/BASELINE.json``.

    uv run python tests/bench/run_all.py                 # full scale (hours on a small machine)
    uv run python tests/bench/run_all.py --quick         # reduced scale, minutes
    uv run python tests/bench/run_all.py --only pool,deals --accept   # write the ratios seen as accepted

Each benchmark is its own script printing one JSON line (see the README); this runner starts each
in a child process, takes the last JSON line it printed, and reads every key named ``ratio*`` or
``*_ratio`` (nested ones as ``outer.inner``; ``goal_*`` keys are goals, not figures). A ratio is a
product figure divided by its baseline from the same run: for timings lower is better, for
throughputs (the benches that divide requests per second) higher is better — ``HIGHER_IS_BETTER``
names those. Exit status 1 when any ratio regressed past the tolerance, 2 when a benchmark failed.
Benchmarks never run in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "BASELINE.json"
TOLERANCE = 0.20


@dataclass(frozen=True)
class Bench:
    name: str
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()


# Quick arguments shrink the data set and the load time; full ones are each script's defaults.
BENCHES = [
    Bench("api", quick=("--seconds", "3", "--connections", "16")),
    Bench("pool", quick=("--scale", "0.02", "--seconds", "3", "--connections", "16", "--race-rounds", "10")),
    Bench(
        "request_path", quick=("--scale", "0.02", "--seconds", "3", "--connections", "16", "--rounds", "2")
    ),
    Bench("web_pages", quick=("--scale", "0.02", "--seconds", "3", "--connections", "8")),
    Bench("pool_masking", quick=("--scale", "0.02", "--rounds", "100")),
    Bench("team_pages", quick=("--scale", "0.02", "--seconds", "3", "--connections", "8", "--rounds", "3")),
    Bench("deals", quick=("--seconds", "3", "--connections", "8")),
    Bench("deal_page", quick=("--seconds", "3", "--connections", "4")),
    Bench("pipeline", quick=("--deals", "20000", "--runs", "5")),
    Bench("handover", quick=("--customers", "2000", "--rounds", "2")),  # the first round is cold
    Bench("merge", quick=("--customers", "2000", "--rounds", "3")),
    Bench("simulate", quick=("--customers", "20000", "--rounds", "3")),
    Bench("reclaim", quick=("--scale", "0.02", "--rounds", "1")),
    Bench("import", quick=("--rows", "10000", "--scale", "0.02")),
    Bench("billing", quick=("--seconds", "3", "--connections", "16", "--events", "5000")),
    Bench("signing", quick=("--envelopes", "5", "--seals", "5")),
    Bench("documents", quick=("--documents", "8", "--singles", "3", "--four", "8", "--rounds", "1")),
    Bench("sales", quick=("--scale", "0.02", "--rounds", "1")),
    Bench("weekly", quick=("--scale", "0.02", "--rounds", "1")),
    Bench("scale", quick=("--scale", "0.01", "--seconds", "4", "--users", "8")),
    Bench("leads", quick=("--rows", "2000", "--scale", "0.01")),
    Bench("webhooks", quick=("--events", "200")),
    Bench("ledger", quick=("--scale", "0.02", "--rounds", "2")),
]

# Ratios of requests (or items) per second: a fall is a regression.
HIGHER_IS_BETTER = {
    "api.ratio_me_vs_bare",
    "api.ratio_members_vs_bare",
    "pool.ratio_pool_vs_bare",
    "pool.ratio_pool_vs_me",
    "request_path.ratio_rps_vs_floor",
    "pool.claims.ratio_claims_vs_bare_same_client",
    "deals.ratio_requests_vs_bare",
    "deals.ratio_quote_create_vs_bare",
    "billing.ratio_ingest_vs_verify",
    "scale.ratio_rps_two_vs_one",
    "documents.ratios.throughput_vs_serial_baseline",
    "documents.ratio_four_at_a_time_vs_raw",
    "documents.ratio_four_at_a_time_vs_carbone",
    "webhooks.ratio_acre_vs_baseline",
}


def ratios(figures: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every ratio in a benchmark's JSON line, nested keys joined with dots."""
    found: dict[str, float] = {}
    for key, value in figures.items():
        path = f"{prefix}{key}"
        if key.startswith("goal"):
            continue
        if isinstance(value, dict):
            inner_prefix = f"{path}."
            if key == "ratios":  # a dict of ratios: each value is one
                found.update({f"{inner_prefix}{k}": float(v) for k, v in value.items() if _number(v)})
            else:
                found.update(ratios(value, inner_prefix))
        elif (key.startswith("ratio") or key.endswith("_ratio")) and _number(value):
            found[path] = float(value)
    return found


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def regressed(key: str, seen: float, accepted: float, tolerance: float = TOLERANCE) -> bool:
    if accepted <= 0:
        return False
    if key in HIGHER_IS_BETTER:
        return seen < accepted * (1 - tolerance)
    return seen > accepted * (1 + tolerance)


def run(bench: Bench, quick: bool) -> tuple[dict[str, Any] | None, str, float]:
    script = HERE / f"bench_{bench.name}.py"
    args = [sys.executable, str(script), *(bench.quick if quick else bench.full)]
    started = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, cwd=HERE.parent.parent, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        return None, said[-1] if said else f"exit {done.returncode}", seconds
    for line in reversed(done.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line), "", seconds
    return None, "printed no JSON line", seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced scale (minutes instead of hours)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names (e.g. pool,deals)")
    parser.add_argument("--accept", action="store_true", help=f"write the ratios seen into {BASELINE.name}")
    args = parser.parse_args()
    chosen = [b for b in BENCHES if not args.only or b.name in args.only.split(",")]
    mode = "quick" if args.quick else "full"
    accepted: dict[str, Any] = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    accepted_ratios: dict[str, float] = accepted.get(mode, {})
    seen: dict[str, float] = {}
    failed: list[str] = []
    worse: list[str] = []
    print(f"{'figure':<58} {'ratio':>8} {'accepted':>9}  note", flush=True)
    for bench in chosen:
        load = os.getloadavg()[0]
        figures, error, seconds = run(bench, args.quick)
        if figures is None:
            failed.append(bench.name)
            print(f"{bench.name:<58} {'—':>8} {'':>9}  FAILED after {seconds:.0f} s: {error}", flush=True)
            continue
        for key, value in ratios(figures).items():
            name = f"{bench.name}.{key}"
            seen[name] = value
            before = accepted_ratios.get(name)
            better = "higher" if name in HIGHER_IS_BETTER else "lower"
            flag = ""
            if before is not None and regressed(name, value, before):
                flag = f"WORSE by >{TOLERANCE:.0%}"
                worse.append(name)
            note = f"{better} is better; load {load:.1f}; {seconds:.0f} s {flag}".rstrip()
            shown = "" if before is None else f"{before:.3f}"
            print(f"{name:<58} {value:>8.3f} {shown:>9}  {note}", flush=True)
    if args.accept and not failed:
        accepted[mode] = {**accepted_ratios, **seen}
        BASELINE.write_text(json.dumps(accepted, indent=2, sort_keys=True) + "\n")
        print(f"accepted into {BASELINE.name}")
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 2
    if worse:
        print(f"worse than accepted by more than {TOLERANCE:.0%}: {', '.join(worse)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
