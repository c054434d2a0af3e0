"""dbt dies with the run that started it: a `kill -9` of the parent alone leaves no dbt behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.shared.dbt import dbt_executable

# A parent that starts a long child (`sleep`), either plainly or through the launcher of
# orchestration/shared/dbt_child.py, prints the child's pid, and waits.
PARENT = """
import subprocess, sys
guarded = sys.argv[1] == "guarded"
prefix = [sys.executable, "-c",
          "import sys; from orchestration.shared.dbt_child import exec_dying_with_parent; "
          "exec_dying_with_parent(sys.argv[1:])"] if guarded else []
child = subprocess.Popen([*prefix, "/bin/sleep", "300"])
print(child.pid, flush=True)
child.wait()
"""


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (init may not reap it at once)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _orphan_after_parent_killed(mode: str, wait: float) -> tuple[int, bool]:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, mode], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    child = int(parent.stdout.readline())
    # the guarded child has execv'd into sleep once its command line says so
    deadline = time.monotonic() + 30
    while not Path(f"/proc/{child}/cmdline").read_bytes().startswith(b"/bin/sleep\0"):
        assert time.monotonic() < deadline, "the child never started sleep"
        time.sleep(0.05)
    os.kill(parent.pid, signal.SIGKILL)  # the parent alone, as an operator or the OOM killer
    parent.wait()
    deadline = time.monotonic() + wait
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    return child, _alive(child)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_a_guarded_child_dies_with_its_killed_parent_and_a_plain_one_does_not():
    plain, plain_alive = _orphan_after_parent_killed("plain", wait=2)
    try:
        assert plain_alive, "without the launcher the orphan keeps running (what it fixes)"
    finally:
        if _alive(plain):
            os.kill(plain, signal.SIGKILL)
    guarded, guarded_alive = _orphan_after_parent_killed("guarded", wait=20)
    if guarded_alive:
        os.kill(guarded, signal.SIGKILL)
    assert not guarded_alive, "the launched child outlived its parent"


def test_runs_start_dbt_through_the_launcher():
    from orchestration.transform.resources import dbt_resource

    assert Path(dbt_executable()).name == "cdp-dbt"
    assert dbt_resource.dbt_executable == dbt_executable()
    out = subprocess.run([dbt_executable(), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "installed" in out.stdout, out.stdout + out.stderr


def test_a_dbt_command_starts_one_dbt_and_reuses_the_partial_parse(tmp_path, monkeypatch):
    """No `dbt --version` and no in-process adapter before the command (resources.py), and
    dbt reuses the parse of the definitions (same target and `--vars`) instead of parsing the
    whole project again."""
    import dagster_dbt.core.resource as dagster_dbt_resource
    from dbt.version import __version__

    from orchestration.shared.dbt import DBT_TARGET, PARSE_VARS_FILE, dbt_project
    from orchestration.transform.resources import dbt_resource

    def refuse(*args, **kwargs):
        raise AssertionError(f"dagster-dbt started a command before dbt: {args}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", refuse)
    assert str(dbt_resource._cli_version) == __version__
    assert dbt_resource._initialize_dbt_core_adapter(["ls"]) is None
    parsed = json.loads((dbt_project.manifest_path.parent / PARSE_VARS_FILE).read_text())
    assert parsed[:2] == ["--target", DBT_TARGET]
    invocation = dbt_resource.cli(
        ["ls", "--select", "stg_pos__stores", *parsed[2:]], target_path=tmp_path / "target"
    )
    events = [event.raw_event["info"]["name"] for event in invocation.stream_raw_events()]
    assert invocation.is_successful()
    assert "FoundStats" in events and "UnableToPartialParse" not in events, events
