"""Demo: run the configured syncs against local stand-ins, twice, and print the history.

`run_demo_syncs(settings)` starts the fake HubSpot and Klaviyo APIs and a webhook receiver on
loopback, an SFTP server (OpenSSH sshd if installed, else paramiko), a throw-away PostgreSQL
cluster if the binaries exist (else a SQLite file for the SQL table destination), writes
audience files under `<data_dir>/audiences/`, materialises the segments, and runs every
sync of config/syncs.yaml twice under the name `demo_<sync>` (so the demo never touches the
state of the real syncs). The second run sends only what changed in between.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _demo_options(sync, targets: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    t = sync.destination.type
    o = dict(sync.destination.options)
    if t == "hubspot":
        o.update(token_env="CDP_DEMO_HUBSPOT_TOKEN", host=targets["hubspot"].url)
    elif t == "klaviyo":
        o.update(api_key_env="CDP_DEMO_KLAVIYO_KEY", test_host=targets["klaviyo"].url)
        o["poll_interval"] = 0.05
    elif t == "webhook":
        o.update(url=targets["webhook"].url + "/hook", secret_env="CDP_DEMO_WEBHOOK_SECRET")
    elif t == "sftp":
        svc = targets["sftp"]
        o.update(
            host=svc.host,
            port=svc.port,
            username=svc.username,
            key_path_env="CDP_DEMO_SFTP_KEY",
            known_hosts=svc.known_hosts,
            remote_dir=svc.remote_dir,
        )
        o.pop("password_env", None)
    elif t == "sql_table":
        pg = targets.get("postgres")
        if pg is not None:
            o.update(driver="postgres", dsn_env="CDP_DEMO_PG_DSN")
        else:
            o.update(driver="sqlite", path=str(data_dir / "demo_clienteling.sqlite"))
            o["table"] = str(o["table"]).split(".")[-1]
            o.pop("dsn_env", None)
    elif t == "audience_file":
        o.update(directory=str(data_dir / "audiences" / str(o.get("platform"))))
    return o


@dataclass
class DemoSyncs:
    """The running stand-ins (`targets`), notes on the servers used, the `demo_<sync>`
    copies of the enabled syncs, and `run_all`: one run of each (on the block's connection,
    or the one given, e.g. after the warehouse was rebuilt), returning their SyncRuns."""

    targets: dict[str, Any]
    notes: list[str]
    syncs: list[Any]
    run_all: Callable[..., list[Any]]


@contextlib.contextmanager
def demo_syncs(settings, con, services: bool = True) -> Iterator[DemoSyncs]:
    """The stand-ins started and the segments materialised, for the block.

    Without `services` no SFTP or PostgreSQL server is started: the SFTP syncs are left out
    and the SQL table goes to a SQLite file under the data folder."""
    from activation.config import Destination, load_syncs, segments_path, syncs_path
    from activation.engine import run_sync
    from activation.segments import load_and_validate, materialise
    from cdp.warehouse import table_exists
    from cdp_demo.env import scoped_env
    from cdp_demo.fakes.fake_hubspot import FakeHubSpot
    from cdp_demo.fakes.fake_klaviyo import FakeKlaviyo
    from cdp_demo.fakes.services import start_postgres, start_sftp
    from cdp_demo.fakes.webhook_receiver import WebhookReceiver

    cfg = settings.config_dir
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    creds = {
        "CDP_DEMO_HUBSPOT_TOKEN": secrets.token_hex(16),
        "CDP_DEMO_KLAVIYO_KEY": "pk_" + secrets.token_hex(16),
        "CDP_DEMO_WEBHOOK_SECRET": secrets.token_hex(32),
    }
    notes: list[str] = []
    with scoped_env(creds) as env, contextlib.ExitStack() as stack:
        targets: dict[str, Any] = {
            "hubspot": stack.enter_context(FakeHubSpot(token=creds["CDP_DEMO_HUBSPOT_TOKEN"])),
            "klaviyo": stack.enter_context(FakeKlaviyo(api_key=creds["CDP_DEMO_KLAVIYO_KEY"])),
            "webhook": stack.enter_context(WebhookReceiver(creds["CDP_DEMO_WEBHOOK_SECRET"])),
        }
        if services:
            work = Path(tempfile.mkdtemp(prefix="cdp-demo-sftp-"))
            stack.callback(shutil.rmtree, work, True)
            sftp = start_sftp(work)
            stack.callback(sftp.stop)
            targets["sftp"] = sftp
            env.set("CDP_DEMO_SFTP_KEY", sftp.client_key_path)
            notes.append(f"SFTP: local {sftp.kind} server on 127.0.0.1:{sftp.port}")
            try:
                pg = start_postgres()
                stack.callback(pg.stop)
                targets["postgres"] = pg
                env.set("CDP_DEMO_PG_DSN", pg.dsn)
                notes.append(f"SQL table: throw-away PostgreSQL on 127.0.0.1:{pg.port}")
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                notes.append(f"SQL table: SQLite file (PostgreSQL unavailable: {exc})")
        if not table_exists(con, "marts.customer_360"):
            raise RuntimeError(
                f"{settings.warehouse}: marts.customer_360 is missing; build the marts first"
            )
        seg_path = segments_path(cfg)
        segments = load_and_validate(seg_path, con)
        materialise(con, segments, seg_path)
        syncs = load_syncs(syncs_path(cfg), segments).syncs
        demo = [
            s.model_copy(
                update={
                    "name": f"demo_{s.name}",
                    "destination": Destination(
                        type=s.destination.type,
                        options=_demo_options(s, targets, data_dir),
                    ),
                }
            )
            for s in syncs
            if s.enabled and (services or s.destination.type != "sftp")
        ]

        def run_all(other=None) -> list[Any]:
            on = other or con
            return [run_sync(on, s, sleep=lambda _s: None, backoff_base=0.0) for s in demo]

        yield DemoSyncs(targets, notes, demo, run_all)


def run_demo_syncs(settings, privacy: list[str] | None = None) -> str:
    """Run the demo syncs twice; with a `privacy` list, then process an access and an
    erasure request and run the syncs once more (cdp_demo/demo_privacy.py), its lines
    appended to the list."""
    from cdp.warehouse import connect as duckdb_connect

    history: list[dict[str, Any]] = []
    with (
        duckdb_connect(str(settings.warehouse)) as con,
        demo_syncs(settings, con) as demo,
    ):
        # the first run meets a rate limit and a transient error, handled by the engine
        demo.targets["hubspot"].inject(429, Retry_After="0")
        demo.targets["hubspot"].inject(503)
        for round_no in (1, 2):
            for s, run in zip(demo.syncs, demo.run_all(), strict=True):
                history.append(
                    {
                        "round": round_no,
                        "sync": s.name,
                        "dest": s.destination.type,
                        **run.metadata(),
                    }
                )
        if privacy is not None:
            from cdp_demo.demo_privacy import run_privacy_round

            privacy.extend(run_privacy_round(con, settings, demo.targets, demo.run_all))
    return format_history(history, demo.notes)


def format_history(history: list[dict[str, Any]], notes: list[str]) -> str:
    head = (
        f"{'run':>3}  {'sync':<36} {'destination':<13} {'added':>7} {'changed':>7} "
        f"{'removed':>7} {'failed':>6} {'no consent':>10}  status"
    )
    lines = ["Activation demo: every sync run twice against local targets", *notes, "", head]
    for h in history:
        lines.append(
            f"{h['round']:>3}  {h['sync']:<36} {h['dest']:<13} {h['added']:>7} {h['changed']:>7} "
            f"{h['removed']:>7} {h['failed']:>6} {h['skipped_consent']:>10}  {h['status']}"
        )
    second = [h for h in history if h["round"] == 2]
    sent = sum(h["added"] + h["changed"] + h["removed"] for h in second)
    lines.append("")
    lines.append(
        f"second run: {sent} records sent in total (only what changed since the first run)"
    )
    return "\n".join(lines)
