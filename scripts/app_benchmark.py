"""Latency of the app's search and profile page on a serving snapshot (a benchmark, not a test).

    .venv/bin/python scripts/app_benchmark.py --data-dir data/bench/100000 [--people 200]
    .venv/bin/python scripts/app_benchmark.py --snapshot scratch.duckdb [--search-only]

Picks identified customers of the snapshot at random (seeded) and, for each, times: a search by
the first and last name with one typo (a letter left out, added or changed, or two swapped, in
one name of 4 letters or more), by the last name with one typo and the first initial, by
e-mail, by phone written the national way, by loyalty card and by order number
(app.search.search on one reused cursor, as the app does), then the
whole profile page served by `cdp app` (a uvicorn process) over one keep-alive HTTP
connection: request, every query and the HTML rendering, each person opened once (cold).
Prints the median and 95th percentile in milliseconds per kind, and the CPU time (median CPU
ms of a search, all threads; the server process's mean CPU ms per profile page): on a shared,
loaded machine the wall-clock time is mostly waiting for a core, the CPU time is the work.
`--snapshot` reads any snapshot file (e.g. a synthetic one, scripts/synthetic_snapshot.py);
its profile pages are served from it too unless `--search-only` (they need the tables a
publication writes: a synthetic snapshot made with `--profiles-from`).

For the names it also prints how often the searched person is in the top 10, how often a
person with the same name is (the name was found; several people may hold it), and the first
share among the queries whose name at most 10 people hold (with more, the searched one may
rightly be an 11th namesake).
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

from app.search import LIMIT, parse  # noqa: E402

PASSWORD = "benchmark password"
SAMPLE = """
    SELECT c.person_id, c.first_name, c.last_name, c.email, c.phone, c.loyalty_card_ids[1],
           (SELECT min(t.term) FROM app.search_terms t
            WHERE t.kind = 'order' AND t.person_id = c.person_id)
    FROM marts.customer_360 c
    WHERE c.is_identified AND c.first_name IS NOT NULL AND c.last_name IS NOT NULL
    ORDER BY hash(c.person_id || ?::VARCHAR) LIMIT ?"""
# persons whose folded names the query cannot tell apart from the searched person's
NAMESAKES = """
    WITH people AS (
        SELECT trim(regexp_replace(lower(strip_accents(first_name)), '[^a-z]+', ' ', 'g')) AS f,
               trim(regexp_replace(lower(strip_accents(last_name)), '[^a-z]+', ' ', 'g')) AS l
        FROM marts.customer_360 WHERE is_identified
    ),
    s AS (SELECT unnest(?::VARCHAR[]) AS f, unnest(?::VARCHAR[]) AS l)
    SELECT s.f, s.l,
           (SELECT count(*) FROM people p WHERE p.f = s.f AND p.l = s.l),
           (SELECT count(*) FROM people p WHERE p.l = s.l AND left(p.f, 1) = left(s.f, 1))
    FROM s"""
TOP = 10
NAME_KINDS = ("first last, 1 typo", "last + initial, 1 typo")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def typo(rng: random.Random, word: str) -> str:
    """One edit a person typing makes: a letter left out, doubled or added, changed for
    another, or two neighbours swapped."""
    i = rng.randrange(len(word))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    edits = [
        word[:i] + word[i + 1 :],
        word[:i] + letter + word[i:],
        word[:i] + letter + word[i + 1 :],
    ]
    if i < len(word) - 1 and word[i] != word[i + 1]:
        edits.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    edits = [e for e in edits if e != word]
    return rng.choice(edits)


def fold(name: str) -> str:
    return " ".join(parse(name).names + parse(name).initials)


def time_searches(cur, rows: list[tuple], seed: int) -> tuple[dict, dict]:
    """Wall-clock ms per kind of search (and the CPU ms of this process, all threads, in
    `cpu_times`: the machine's load inflates the first much more than the second); for the
    names, the ranks in `ranks` (kind -> [(found in the top 10, a namesake in the top 10,
    number of namesakes)])."""
    from app.search import search

    rng = random.Random(seed)
    timings: dict[str, list[float]] = {}
    found: dict[str, int] = {}
    ranks: dict[str, list[tuple]] = {}
    firsts, lasts = [fold(r[1]) for r in rows], [fold(r[2]) for r in rows]
    namesakes = {
        (f, last): (same, initial)
        for f, last, same, initial in cur.execute(NAMESAKES, [firsts, lasts]).fetchall()
    }

    def timed(kind: str, text: str | None, person_id: str) -> list[dict]:
        if not text:
            return []
        started, cpu = time.perf_counter(), time.process_time()
        hits = search(cur, text, identified_only=False)
        timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        cpu_times.setdefault(kind, []).append((time.process_time() - cpu) * 1000)
        found[kind] = found.get(kind, 0) + any(h["person_id"] == person_id for h in hits)
        return hits

    for (person_id, _, _, email, phone, card, order), f, last in zip(
        rows, firsts, lasts, strict=True
    ):
        # the typo in a name of 4 letters or more (first or last, at random), or none
        long_ones = [n for n in ("first", "last") if len((f, last)[n == "last"]) >= 4]
        where = rng.choice(long_ones) if long_ones else None
        typed_f = typo(rng, f) if where == "first" else f
        typed_l = typo(rng, last) if where == "last" else last
        for kind, text, key, count in (
            (NAME_KINDS[0], f"{typed_f} {typed_l}", (f, last), 0),
            (
                NAME_KINDS[1],
                f"{typo(rng, last) if len(last) >= 4 else last} {f[:1]}",
                (last, f[:1]),
                1,
            ),
        ):
            hits = timed(kind, text, person_id)[:TOP]
            top = [(fold(h["first_name"] or ""), fold(h["last_name"] or "")) for h in hits]
            keys = top if count == 0 else [(b, a[:1]) for a, b in top]
            ranks.setdefault(kind, []).append(
                (
                    any(h["person_id"] == person_id for h in hits),
                    key in keys,
                    namesakes[(f, last)][count],
                )
            )
        timed("e-mail", email, person_id)
        national = "0" + phone[3:] if phone and phone.startswith("+33") else phone
        timed("phone", national, person_id)
        timed("loyalty card", card, person_id)
        timed("order number", order, person_id)
    return timings, found, ranks


def time_profiles(snapshot: Path, rows: list[tuple]) -> list[float]:
    """Each sampled profile page once, from a `cdp app` process serving `snapshot` (a serving
    folder of its own points at it), over one HTTP connection."""
    import httpx

    from app import accounts
    from app.cli import free_port, wait_until_listening
    from cdp.serving import CURRENT_NAME
    from cdp.settings import get_settings

    work = Path(tempfile.mkdtemp(prefix="app-benchmark-"))
    (work / "serving").mkdir()
    (work / "serving" / CURRENT_NAME).symlink_to(snapshot)
    env = {
        **os.environ,
        "CDP_DATA_DIR": str(work),
        "CDP_SERVING_DIR": str(work / "serving"),
        "CDP_APP_SECRET_KEY": "b" * 48,
        "CDP_APP_INSECURE_COOKIES": "1",
        "CDP_APP_DB": str(work / "bench.sqlite"),
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
    where.add_argument("--snapshot", type=Path, help="a snapshot file")
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
    load = os.getloadavg()[0]
    cur = duckdb.connect(str(path), read_only=True).cursor()
    persons = cur.execute(
        "SELECT count(*) FILTER (WHERE is_identified), count(*) FROM marts.customer_360"
    ).fetchall()[0]
    rows = cur.execute(SAMPLE, [args.seed, args.people]).fetchall()
    timings, found, ranks = time_searches(cur, rows, args.seed)
    if not args.search_only:
        timings["profile page (HTTP)"] = time_profiles(path, rows)

    print(
        f"snapshot {path}: {persons[1]:,} persons ({persons[0]:,} identified), "
        f"{len(rows)} sampled; load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end (1 min, {os.cpu_count()} cores)"
    )
    print(
        f"{'query':<24} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} "
        f"{'CPU p95':>8} {'found':>7}"
    )
    for kind, values in timings.items():
        hit = f"{found[kind] / len(values):.1%}" if kind in found else ""
        cpu = cpu_times[kind]
        print(
            f"{kind:<24} {len(values):>5} {statistics.median(values):>10.1f} "
            f"{percentile(values, 0.95):>8.1f} {statistics.median(cpu):>7.1f} "
            f"{percentile(cpu, 0.95):>8.1f} {hit:>7}"
        )
    print(
        f"\nnames, top {TOP} ('found' above: in the {LIMIT} results): the person; a person "
        f"with the same name (first and last, or last and initial); the person, among the "
        f"queries whose name has at most {TOP} holders (the others cannot all be shown)"
    )
    print(f"{'query':<24} {'person':>8} {'namesake':>9} {'<=10 holders':>13} {'of':>5}")
    for kind, values in ranks.items():
        few = [v for v in values if v[2] <= TOP]
        print(
            f"{kind:<24} {_share(v[0] for v in values):>8} {_share(v[1] for v in values):>9} "
            f"{_share(v[0] for v in few):>13} {len(few):>5}"
        )
    return 0


def _share(flags) -> str:
    flags = list(flags)
    return f"{sum(flags) / len(flags):.1%}" if flags else "-"


if __name__ == "__main__":
    sys.exit(main())
