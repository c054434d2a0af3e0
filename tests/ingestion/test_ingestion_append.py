"""Event tables (`append_only` in their spec) append the files seen the first time, merge a run
that re-reads a changed file, and hold every event once after a crash and a rerun."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.pipeline import make_pipeline, run_all
from ingestion.sources.specs import source_specs
from tests.ingestion.ingestion_fixtures import count, query, web_events

EVENT_TABLES = {"web": "events", "esp": "events", "consent": "consent_events"}


def staged_tables(settings, source: str) -> list[str]:
    """Tables of dlt's staging dataset of `source` (where a merge lands first)."""
    return [
        name
        for (name,) in query(
            settings,
            f"select table_name from duckdb_tables() where schema_name = 'raw_{source}_staging'",
        )
    ]


def disposition(settings, source: str, table: str) -> str:
    return make_pipeline(source, settings).default_schema.tables[table]["write_disposition"]


def event_ids(settings) -> list[tuple[str, int]]:
    return query(settings, "select event_id, count(*) from raw_web.events group by 1 order by 1")


def test_the_event_tables_are_declared_append_only_and_no_other():
    declared = {
        (source, spec.name)
        for source in ("shop", "pos", "clienteling", "esp", "web", "service", "consent")
        for spec in source_specs(source)
        if spec.append_only
    }
    assert declared == set(EVENT_TABLES.items())


def test_first_seen_event_files_are_appended_without_staging(settings, landing):
    report = run_all(settings, sources=list(EVENT_TABLES))
    assert report["errors"] == {}
    for source, table in EVENT_TABLES.items():
        assert count(settings, f"raw_{source}.{table}") == landing[f"raw_{source}.{table}"]
        assert disposition(settings, source, table) == "append"
        assert table not in staged_tables(settings, source), source  # no merge went through
    # a later file, seen the first time: appended too
    pq.write_table(web_events(3, start=100), settings.landing_dir / "web/events_2025-02.parquet")
    report = run_all(settings, sources=["web"])
    assert report["rows"]["raw_web.events"] == 3
    assert "events" not in staged_tables(settings, "web")
    assert [n for _, n in event_ids(settings)] == [1] * 7


def test_a_reread_event_file_leaves_each_event_once(settings, landing):
    """A changed file (two events added to the month) is read again in full: the run merges on
    `event_id`, so each event is there once and the file's rows carry the new load id, as
    before; a first-seen file of the same run goes in with it; the next run appends again."""
    run_all(settings, sources=["web"])
    web = settings.landing_dir / "web"
    pq.write_table(web_events(6), web / "events_2025-01.parquet")  # W000000-3 again, + 4, 5
    pq.write_table(web_events(2, start=100), web / "events_2025-02.parquet")
    report = run_all(settings, sources=["web"])
    assert report["errors"] == {}
    assert report["rows"]["raw_web.events"] == 8
    assert disposition(settings, "web", "events") == "merge"
    assert "events" in staged_tables(settings, "web")
    assert [n for _, n in event_ids(settings)] == [1] * 8
    [load_id] = report["load_ids"]["web"]
    assert query(settings, "select distinct _dlt_load_id from raw_web.events") == [(load_id,)]

    pq.write_table(web_events(1, start=200), web / "events_2025-03.parquet")
    report = run_all(settings, sources=["web"])
    assert report["rows"]["raw_web.events"] == 1
    assert disposition(settings, "web", "events") == "append"
    assert [n for _, n in event_ids(settings)] == [1] * 9


# Dies like a `kill -9` right after DuckDB committed the INSERT of the events job, before dlt
# recorded the job as done: on resume dlt runs the job again.
KILLED_AFTER_INSERT = textwrap.dedent(
    """
    import os
    from dlt.destinations.impl.duckdb import duck
    from ingestion.pipeline import run_source

    insert = duck.DuckDbCopyJob.run

    def run(self):
        insert(self)
        if self.load_table_name == "events":
            os._exit(9)

    duck.DuckDbCopyJob.run = run
    run_source("web")
    """
)


def _killed_after_insert(settings) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_AFTER_INSERT], env=os.environ.copy())
    assert done.returncode == 9
    # the kill left the rows in the table (4 + the good row of the new file), load unfinished
    assert count(settings, "raw_web.events") == 5
    assert count(settings, "raw_web._dlt_loads") == 0


def _one_bad_line(settings) -> None:
    table = web_events(2, start=50)
    bad = pa.array(["not a time", "2025-02-01T00:00:00Z"], pa.string())
    table = table.set_column(1, "occurred_at", bad)  # the first row rejected
    pq.write_table(table, settings.landing_dir / "web/events_2025-02.parquet")


def test_a_load_killed_after_its_insert_and_resumed_leaves_each_event_once(settings, landing):
    _one_bad_line(settings)
    _killed_after_insert(settings)
    report = run_all(settings, sources=["web"])  # resumes the package: the job runs again
    assert report["errors"] == {}
    assert [n for _, n in event_ids(settings)] == [1] * 5
    assert count(settings, "raw_web.rejected_rows") == 1
    again = run_all(settings, sources=["web"])
    assert again["rows"] == {}
    assert count(settings, "raw_web.events") == 5


def test_a_killed_load_whose_package_was_lost_is_read_again_once(settings, landing):
    """`data/dlt` deleted after the kill: the state comes back from the warehouse, the files
    are read again, and what the lost package had appended is deleted first."""
    _one_bad_line(settings)
    _killed_after_insert(settings)
    shutil.rmtree(settings.data_dir / "dlt")
    report = run_all(settings, sources=["web"])
    assert report["errors"] == {}
    assert report["rows"]["raw_web.events"] == 5
    assert [n for _, n in event_ids(settings)] == [1] * 5
    assert count(settings, "raw_web.rejected_rows") == 1


def test_a_nested_file_is_parsed_once_for_its_table_and_child_tables(
    settings, landing, monkeypatch
):
    """The shop's parent and child resources share each parsed file (`ParsedFiles`)."""
    from ingestion.sources import _common

    parsed = []
    parse = _common.parse_file

    def counting(path, *args, **kwargs):
        parsed.append(path.name)
        return parse(path, *args, **kwargs)

    monkeypatch.setattr(_common, "parse_file", counting)
    report = run_all(settings, sources=["shop"])
    assert report["errors"] == {}
    assert sorted(parsed) == sorted(set(parsed))  # no file parsed twice
    assert len(parsed) == len(list((settings.landing_dir / "shop").rglob("*.jsonl")))
    for table in ("customers__addresses", "orders__items", "carts__items"):
        assert count(settings, f"raw_shop.{table}") == landing[f"raw_shop.{table}"]
