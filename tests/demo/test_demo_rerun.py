"""After the shared demo run (tests/demo_build.py), which erased one person: a full re-run of
every asset on the same landing files (dlt state dropped, files touched) brings no table,
snapshot or file under data/ holding the erased person back (the demo's own output showed the
stand-in vendors no longer hold them), and the other persons all come back.

A file of its own so that, with `--dist loadfile`, it runs beside test_demo.py's checks of the
demo's output instead of after them on the same worker.
"""

from __future__ import annotations

import os
import shutil

import duckdb

from tests.demo_build import use


def test_erased_person_stays_out_after_a_full_rerun(demo_build, cdp_env, monkeypatch):
    from cdp_demo.demo import all_assets_but_syncs

    from cdp.settings import get_settings
    from cli.runner import run_pipeline
    from tests.demo.erased_scan import erased_identifiers, leftovers

    assert demo_build.returncode == 0, demo_build.output
    demo_build.copy_to(cdp_env)
    use(monkeypatch, cdp_env)
    settings = get_settings()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        persons = con.execute("select count(*) from marts.customer_360").fetchone()[0]
        ids = erased_identifiers(con, settings.landing_dir)
    assert persons > 0
    assert ids["email"] or ids["phone"], ids
    shutil.rmtree(settings.data_dir / "dlt", ignore_errors=True)
    for path in settings.landing_dir.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert run_pipeline(all_assets_but_syncs()).success
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        again = con.execute("select count(*) from marts.customer_360").fetchone()[0]
    assert again == persons
    assert leftovers(settings.data_dir, settings.landing_dir, settings.warehouse, ids) == []
