"""Latency of the app's search and profile page on a serving snapshot (a benchmark, not a test).

    .venv/bin/python scripts/app_benchmark.py --data-dir data/bench/100000 [--people 200]

Picks identified customers of the snapshot at random (seeded) and, for each, times: a search by
the name with two letters swapped, by e-mail, by phone written the national way, by loyalty
card and by order number (app.search.search), then the whole profile page through the app
(HTTP request, every query and the HTML rendering, starlette's test client). Prints the median
and 95th percentile in milliseconds per kind.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ["CDP_DATA_DIR"] = str(args.data_dir.resolve())
    os.environ["CDP_APP_SECRET_KEY"] = "b" * 48
    os.environ["CDP_APP_INSECURE_COOKIES"] = "1"
    os.environ["CDP_APP_DB"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite")

    from app.search import search
    from app.snapshot import SnapshotReader
    from cdp.settings import get_settings

    settings = get_settings()
    cur = SnapshotReader(settings).cursor()
    persons = cur.execute(
        "SELECT count(*) FILTER (WHERE is_identified), count(*) FROM marts.customer_360"
    ).fetchall()[0]
    rows = cur.execute(
        """SELECT c.person_id, c.first_name, c.last_name, c.email, c.phone,
                  c.loyalty_card_ids[1], (SELECT min(o.source_order_id) FROM marts.orders o
                                          WHERE o.person_id = c.person_id)
           FROM marts.customer_360 c
           WHERE c.is_identified AND length(c.last_name) >= 5 AND c.email IS NOT NULL
           ORDER BY hash(c.person_id || ?::VARCHAR) LIMIT ?""",
        [args.seed, args.people],
    ).fetchall()
    rng = random.Random(args.seed)
    timings: dict[str, list[float]] = {}
    found: dict[str, int] = {}

    def timed(kind: str, text: str | None, person_id: str) -> None:
        if not text:
            return
        started = time.perf_counter()
        hits = search(cur, text, identified_only=False)
        timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        found[kind] = found.get(kind, 0) + any(h["person_id"] == person_id for h in hits)

    for person_id, first, last, email, phone, card, order in rows:
        i = rng.randrange(1, len(last) - 2)
        typo = last[:i] + last[i + 1] + last[i] + last[i + 2 :]
        timed("name with a typo", f"{first} {typo}", person_id)
        timed("e-mail", email, person_id)
        national = "0" + phone[3:] if phone and phone.startswith("+33") else phone
        timed("phone", national, person_id)
        timed("loyalty card", card, person_id)
        timed("order number", order, person_id)

    from starlette.testclient import TestClient

    from app import accounts
    from app.web import create_app

    accounts.add_user(settings, "bench", "admin", "benchmark password")
    client = TestClient(create_app())
    page = client.get("/login").text
    token = page.split('name="csrftoken" value="')[1].split('"')[0]
    client.post(
        "/login", data={"username": "bench", "password": "benchmark password", "csrftoken": token}
    )
    for person_id, *_ in rows:
        started = time.perf_counter()
        response = client.get(f"/person/{person_id}")
        timings.setdefault("profile page (HTTP)", []).append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code

    print(
        f"snapshot {SnapshotReader(settings).settings.data_dir}: {persons[1]:,} persons "
        f"({persons[0]:,} identified), {len(rows)} sampled"
    )
    print(f"{'query':<22} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'found':>7}")
    for kind, values in timings.items():
        hit = f"{found[kind] / len(values):.1%}" if kind in found else ""
        print(
            f"{kind:<22} {len(values):>5} {statistics.median(values):>10.1f} "
            f"{percentile(values, 0.95):>8.1f} {hit:>7}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
