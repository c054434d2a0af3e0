"""What ingestion and model training leave under data/: private modes, no load packages,
model artifacts loaded only when their recorded SHA-256 matches."""

from __future__ import annotations

import json
import stat

import pytest

from cdp.private_files import DIR_MODE, FILE_MODE, harden
from ingestion.pipeline import run_all
from ml.artifact import ArtifactError, load_artifact, save_artifact
from tests.ingestion.ingestion_fixtures import write_landing


def _modes(root):
    return {p: stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if not p.is_symlink()}


def test_a_load_leaves_private_files_and_no_load_package(settings):
    write_landing(settings.landing_dir)
    report = run_all(settings, sources=["shop", "esp"])
    assert not report["errors"] and report["load_ids"]["shop"]
    dlt_dir = settings.data_dir / "dlt"
    assert not list(dlt_dir.rglob("*.parquet")) and not list(dlt_dir.rglob("completed_jobs"))
    for folder in dlt_dir.glob("*/load/loaded"):
        assert not any(folder.iterdir()), folder  # each successful package deleted
    written = {p: m for p, m in _modes(settings.data_dir).items() if "landing" not in p.parts}
    assert settings.warehouse in written
    for path, mode in written.items():
        assert mode == (DIR_MODE if path.is_dir() else FILE_MODE), (path, oct(mode))


def test_loaded_packages_kept_when_retention_says_keep(settings, monkeypatch):
    monkeypatch.setenv("CDP_DLT_LOADED_PACKAGES", "keep")
    write_landing(settings.landing_dir)
    run_all(settings, sources=["shop"])
    assert any(any(f.iterdir()) for f in (settings.data_dir / "dlt").glob("*/load/loaded"))


def test_harden_fixes_an_old_tree(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a").chmod(0o755)
    (tmp_path / "a" / "f").write_text("x")
    (tmp_path / "a" / "f").chmod(0o644)
    assert harden(tmp_path / "a") == 2
    assert set(_modes(tmp_path / "a").values()) == {FILE_MODE}
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == DIR_MODE
    assert harden(tmp_path / "a") == 0


def test_model_artifact_refused_when_swapped_or_pointed_elsewhere(tmp_path):
    save_artifact(tmp_path, "churn-20260101-abc", {"model": 1}, {"version": "churn-20260101-abc"})
    trained, card = load_artifact(tmp_path)
    assert trained == {"model": 1} and len(card["artifact_sha256"]) == 64
    latest = tmp_path / "churn" / "LATEST"
    pointer = json.loads(latest.read_text())
    latest.write_text(json.dumps({**pointer, "version": "../../etc"}))
    with pytest.raises(ArtifactError, match="version name"):
        load_artifact(tmp_path)
    latest.write_text(json.dumps(pointer))
    import joblib

    joblib.dump({"model": 2}, tmp_path / "churn" / "churn-20260101-abc" / "model.joblib")
    with pytest.raises(ArtifactError, match="SHA-256"):
        load_artifact(tmp_path)
