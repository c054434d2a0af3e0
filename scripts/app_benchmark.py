"""Latency of the app's search and profile page on a serving snapshot (a benchmark, not a test).

    .venv/bin/python scripts/app_benchmark.py --data-dir data/bench/100000 [--people 200]
    .venv/bin/python scripts/app_benchmark.py --snapshot scratch.duckdb --search-only

Picks identified customers of the snapshot at random (seeded) and, for each, times: a search by
the name with two letters swapped, by e-mail, by phone written the national way, by loyalty
card and by order number (app.search.search on one reused cursor, as the app does), then the
whole profile page served by `cdp app` (a uvicorn process) over one keep-alive HTTP
connection: request, every query and the HTML rendering, each person opened once (cold).
Prints the median and 95th percentile in milliseconds per kind, and the CPU time (median CPU
ms of a search, all threads; the server process's mean CPU ms per profile page): on a shared,
loaded machine the wall-clock time is mostly waiting for a core, the CPU time is the work.
`--snapshot` reads any snapshot file (e.g. a synthetic one); it times the search only.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
cpu_times: dict[str, list[float]] = {}
sys.path.insert(0, str(ROOT))
PASSWORD = "benchmark password"
SAMPLE = """
    SELECT c.person_id, c.first_name, c.last_name, c.email, c.phone, c.loyalty_card_ids[1],
           (SELECT min(t.term) FROM app.search_terms t
            WHERE t.kind = 'order' AND t.person_id = c.person_id)
    FROM marts.customer_360 c
    WHERE c.is_identified AND length(c.last_name) >= 5 AND c.email IS NOT NULL
    ORDER BY hash(c.person_id || ?::VARCHAR) LIMIT ?"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_searches(cur, rows: list[tuple], seed: int) -> tuple[dict, dict]:
    """Wall-clock ms per kind of search (and the CPU ms of this process, all threads, in
    `cpu_times`: the machine's load inflates the first much more than the second)."""
    from app.search import search

    rng = random.Random(seed)
    timings: dict[str, list[float]] = {}
    found: dict[str, int] = {}

    def timed(kind: str, text: str | None, person_id: str) -> None:
        if not text:
            return
        started, cpu = time.perf_counter(), time.process_time()
        hits = search(cur, text, identified_only=False)
        timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        cpu_times.setdefault(kind, []).append((time.process_time() - cpu) * 1000)
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
    return timings, found


def time_profiles(data_dir: Path, rows: list[tuple]) -> list[float]:
    """Each sampled profile page once, from a `cdp app` process, over one HTTP connection."""
    import httpx

    from app import accounts
    from app.cli import free_port, wait_until_listening
    from cdp.settings import get_settings

    env = {
        **os.environ,
        "CDP_DATA_DIR": str(data_dir),
        "CDP_APP_SECRET_KEY": "b" * 48,
        "CDP_APP_INSECURE_COOKIES": "1",
        "CDP_APP_DB": str(Path(tempfile.mkdtemp()) / "bench.sqlite"),
    }
    os.environ["CDP_APP_DB"] = env["CDP_APP_DB"]  # the account, in the server's store
    accounts.add_user(get_settings(), "bench", "admin", PASSWORD)
    port = free_port()
    cdp = [sys.executable, "-m", "cli.main", "app", "--port", str(port)]
    server = subprocess.Popen(cdp, env=env, cwd=ROOT)
    try:
        wait_until_listening(port, server)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            page = client.get("/login").text
            token = page.split('name="csrftoken" value="')[1].split('"')[0]
            form = {"username": "bench", "password": PASSWORD, "csrftoken": token}
            client.post("/login", data=form)
            timings = []
            cpu = _cpu_seconds(server.pid)
            for person_id, *_ in rows:
                started = time.perf_counter()
                response = client.get(f"/person/{person_id}")
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
            cpu = _cpu_seconds(server.pid) - cpu
        cpu_times["profile page (HTTP)"] = [cpu / len(rows) * 1000]  # the server's, a mean
        return timings
    finally:
        server.terminate()
        server.wait(timeout=30)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): what a page costs the server,
    which the machine's load does not inflate as much as the wall-clock time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-dir", type=Path, help="a data dir with a published snapshot")
    where.add_argument("--snapshot", type=Path, help="a snapshot file (search only)")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--search-only", action="store_true")
    args = parser.parse_args()

    import duckdb

    from cdp import serving
    from cdp.settings import get_settings

    if args.data_dir is not None:
        os.environ["CDP_DATA_DIR"] = str(args.data_dir.resolve())
        path = serving.current_snapshot(get_settings())
    else:
        path = args.snapshot.resolve()
    cur = duckdb.connect(str(path), read_only=True).cursor()
    persons = cur.execute(
        "SELECT count(*) FILTER (WHERE is_identified), count(*) FROM marts.customer_360"
    ).fetchall()[0]
    rows = cur.execute(SAMPLE, [args.seed, args.people]).fetchall()
    timings, found = time_searches(cur, rows, args.seed)
    if args.data_dir is not None and not args.search_only:
        timings["profile page (HTTP)"] = time_profiles(args.data_dir.resolve(), rows)

    print(
        f"snapshot {path}: {persons[1]:,} persons ({persons[0]:,} identified), "
        f"{len(rows)} sampled; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'query':<22} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'found':>7}")
    for kind, values in timings.items():
        hit = f"{found[kind] / len(values):.1%}" if kind in found else ""
        print(
            f"{kind:<22} {len(values):>5} {statistics.median(values):>10.1f} "
            f"{percentile(values, 0.95):>8.1f} {statistics.median(cpu_times[kind]):>7.1f} "
            f"{hit:>7}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
