"""The territory manager's pages against the JSON API routes for the same data, in the same server
and run (issue 17's figures; goal for each: page ≤ 1.5× the API).

1. **Team customers** at the generated dataset (1M customers at ``--scale 1``; its largest tenant
   holds 20%): a manager of the whole province — a 200,000-customer subtree — filters it
   (territory subtree, grade C, prospects) sorted newest first: ``GET /customers?view=team&…`` (the
   full page: shell, filter pickers, 50 rows) vs ``GET /api/v1/customers?…&limit=50`` (the same rows,
   checked). Measured sequentially through one keep-alive connection (median, p95) and under load
   (wrk). The "all N matching" count the page loads after itself (``/customers/team/count``) is
   timed on its own, against the same API list.
2. **Handover preview** of 10,000 selected customers (``bench_handover``'s data: one rep's 10,000
   customers with an open deal each, by capacity to three reps): the rendered preview step
   (``GET /handovers/{id}``) vs the API's (``GET /api/v1/handovers/{id}``), and the wizard's submit
   as a browser does it (``POST /handovers`` then the page it redirects to) vs ``POST
   /api/v1/handovers`` (which answers the preview).

The generated database is cached as a template (``harness.cached_database``, by scale and the
migrations): the first run at a scale generates it (minutes at 1M), later ones copy it in seconds.

    uv run python tests/bench/bench_team_pages.py [--scale 1.0] [--seconds 8] [--connections 16]
        [--customers 10000] [--rounds 8] [--fresh]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import generate, session_token
from tests.bench.bench_handover import _data as handover_data
from tests.bench.harness import BenchDB, cached_database, load, server

SEQUENTIAL = 100
GOAL = 1.5


def _timed(client: httpx.Client, method: str, url: str, **kwargs: Any) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    r = client.request(method, url, **kwargs)
    return (time.perf_counter() - start) * 1000, r


def _stats(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95)], 2)}


def _sequential(client: httpx.Client, urls: dict[str, str], n: int) -> dict[str, dict[str, float]]:
    """Each of ``urls`` ``n`` times one after another, interleaved (so a load spike hits all alike)."""
    for url in urls.values():  # warm the server's pools and caches
        for _ in range(5):
            client.get(url)
    times: dict[str, list[float]] = {k: [] for k in urls}
    for _ in range(n):
        for key, url in urls.items():
            ms, r = _timed(client, "GET", url)
            assert r.status_code == 200, (url, r.status_code, r.text[:300])
            times[key].append(ms)
    return {k: _stats(v) for k, v in times.items()}


async def _fill(db: BenchDB, scale: float, customers: int) -> dict[str, object]:
    """The dataset, a manager of the largest tenant's whole province, and the handover's data."""
    data = await generate(db.admin_url, scale=scale)
    t = data.largest
    conn = await asyncpg.connect(db.admin_url)
    try:
        province = await conn.fetchval(
            "SELECT id FROM territories WHERE tenant = $1 AND level = 'province'", t.id
        )
        await conn.execute(
            "INSERT INTO territory_members (tenant, territory_id, membership_id, role)"
            " VALUES ($1, $2, $3, 'manager')",
            t.id,
            province,
            t.managers[0],
        )
    finally:
        await conn.close()
    handover = await handover_data(db.admin_url, customers)
    return {
        "tenant": str(t.id),
        "manager": str(t.managers[0]),
        "province": str(province),
        "customers": data.customers,
        "tenant_customers": t.customers,
        "generate_s": data.seconds,
        "handover": {k: str(v) for k, v in handover.items()},
    }


def _team_table(
    base: str, info: dict[str, Any], token: str, seconds: int, connections: int
) -> dict[str, Any]:
    filters = f"territory_id={info['province']}&grade=C&status=prospect&sort=newest"
    page_url = f"{base}/customers?view=team&{filters}"
    api_url = f"{base}/api/v1/customers?{filters}&limit=50"
    count_url = f"{base}/customers/team/count?{filters}"
    headers = {"Cookie": f"acre_session={token}"}
    with httpx.Client(headers=headers, timeout=60) as client:
        page, api = client.get(page_url), client.get(api_url)
        assert page.status_code == 200 and api.status_code == 200, (page.text[:300], api.text[:300])
        items = api.json()["items"]
        assert len(items) == 50, len(items)
        shown = [item["id"] for item in items if f'id="row-{item["id"]}"' in page.text]
        assert len(shown) == 50, len(shown)  # the page shows the API's rows
        count = client.get(count_url)
        assert count.status_code == 200, count.text[:300]
        seq = _sequential(client, {"page": page_url, "api": api_url}, SEQUENTIAL)
        # on its own: interleaved, its scan of the subtree would evict what the next request reads
        seq |= _sequential(client, {"count": count_url}, SEQUENTIAL // 5)
    page_load = load(page_url, headers, seconds=seconds, connections=connections)
    api_load = load(api_url, headers, seconds=seconds, connections=connections)
    assert page_load.errors == 0 and api_load.errors == 0
    return {
        "filter": "province subtree, grade C, prospects, newest first, 50 rows",
        "page_sequential": seq["page"],
        "api_sequential": seq["api"],
        "count_sequential": seq["count"],
        "ratio_sequential_p50": round(seq["page"]["p50_ms"] / seq["api"]["p50_ms"], 3),
        "ratio_count_vs_api_p50": round(seq["count"]["p50_ms"] / seq["api"]["p50_ms"], 3),
        "page_load": vars(page_load),
        "api_load": vars(api_load),
        # wrk counts no request that timed out (5 s): too few answers mean the run measured nothing
        "ratio_load_time_per_request": (
            round(api_load.rps / page_load.rps, 3)
            if min(page_load.requests, api_load.requests) >= 20
            else None
        ),
    }


def _handover(base: str, ids: dict[str, str], token: str, csrf: str, rounds: int) -> dict[str, Any]:
    receivers = {ids["r1"]: 2, ids["r2"]: 1, ids["r3"]: 1}
    body = {
        "reason": "基准移交",
        "selection": {"owner_ids": [ids["leaving"]]},
        "targets": [{"membership_id": m, "weight": w} for m, w in receivers.items()],
        "mode": "capacity",
    }
    form: dict[str, str | list[str]] = {
        "reason": "基准移交",
        "owner_ids": ids["leaving"],
        "mode": "capacity",
        "carry_deals": "1",
        "carry_envelopes": "1",
        "keep_read_days": "0",
        "targets": list(receivers),
        **{f"weight_{m}": str(w) for m, w in receivers.items()},
    }
    headers = {"Cookie": f"acre_session={token}; acre_csrf={csrf}", "X-CSRF-Token": csrf}
    with httpx.Client(headers=headers, timeout=120) as client:
        created = client.post(base + "/api/v1/handovers", json=body)
        assert created.status_code == 201, created.text[:300]
        preview = created.json()["preview"]
        assert preview["customers"] == int(ids["n"]) and len(preview["receivers"]) == 3, preview
        plan = created.json()["id"]
        page = client.get(f"{base}/handovers/{plan}")
        assert page.status_code == 200, page.text[:300]
        for r in preview["receivers"]:  # the page shows the API's per-receiver figures
            assert f'id="receiver-{r["membership_id"]}"' in page.text
            assert f'class="n-customers">{r["customers"]}<' in page.text, r
        read = _sequential(
            client, {"page": f"{base}/handovers/{plan}", "api": f"{base}/api/v1/handovers/{plan}"}, rounds
        )
        wizard: list[float] = []
        api: list[float] = []
        for _ in range(rounds):  # each creates a plan of 10,000 items (drafts stay: they lock nothing)
            ms, r = _timed(client, "POST", base + "/api/v1/handovers", json=body)
            assert r.status_code == 201, r.text[:300]
            api.append(ms)
            ms, r = _timed(client, "POST", base + "/handovers", data=form, headers={"HX-Request": "true"})
            assert r.status_code == 200 and r.headers.get("HX-Redirect"), r.text[:300]
            more, shown = _timed(client, "GET", base + r.headers["HX-Redirect"])
            assert shown.status_code == 200 and 'id="receivers"' in shown.text
            wizard.append(ms + more)
    return {
        "customers": int(ids["n"]),
        "receivers": 3,
        "preview_page_sequential": read["page"],
        "preview_api_sequential": read["api"],
        "ratio_preview_p50": round(read["page"]["p50_ms"] / read["api"]["p50_ms"], 3),
        "wizard_submit_sequential": _stats(wizard),
        "api_create_sequential": _stats(api),
        "ratio_wizard_vs_api_create_p50": round(statistics.median(wizard) / statistics.median(api), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 customers")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--customers", type=int, default=10_000, help="handed over in the preview")
    parser.add_argument("--rounds", type=int, default=8, help="handover previews timed per side")
    parser.add_argument("--fresh", action="store_true", help="generate again instead of the cached copy")
    args = parser.parse_args()
    secret = secrets.token_urlsafe(16)
    os.environ["ACRE_SECRET_KEY"] = secret  # the server's: the page's CSRF token is derived from it
    started = time.perf_counter()
    with cached_database(
        f"team_s{args.scale:g}_h{args.customers}",
        lambda db: _fill(db, args.scale, args.customers),
        fresh=args.fresh,
    ) as (bench, info):
        ready_s = round(time.perf_counter() - started, 1)
        from app.accounts.service import csrf_token_for
        from app.settings import get_settings

        get_settings.cache_clear()
        tenant = UUID(str(info["tenant"]))
        manager = asyncio.run(session_token(bench.admin_url, tenant, UUID(str(info["manager"]))))
        ids: dict[str, str] = dict(info["handover"])  # type: ignore[call-overload]
        ids["n"] = str(args.customers)
        owner = asyncio.run(session_token(bench.admin_url, UUID(ids["tenant"]), UUID(ids["owner"])))
        load_before = os.getloadavg()
        with server({"ACRE_SECRET_KEY": secret}) as url:
            table = _team_table(url, info, manager, args.seconds, args.connections)
            handover = _handover(url, ids, owner, csrf_token_for(owner), args.rounds)
        load_after = os.getloadavg()
    print(
        json.dumps(
            {
                "bench": "team_pages",
                "scale": args.scale,
                "customers": info["customers"],
                "subtree_customers": info["tenant_customers"],
                "database_ready_s": ready_s,
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in load_after],
                "team_table": table,
                "handover": handover,
                "goal_team_table_le_1_5x": table["ratio_sequential_p50"] <= GOAL,
                "goal_handover_preview_le_1_5x": handover["ratio_preview_p50"] <= GOAL,
                "goal_handover_wizard_le_1_5x": handover["ratio_wizard_vs_api_create_p50"] <= GOAL,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
