"""A model asset that trains only when due (ml/cadence.py) and otherwise materialises the
newest artefact again: the same metadata from its card, plus whether it was reused and why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg

from orchestration.shared.keys import FULL_REFRESH_TAG


def model_result(
    context: dg.AssetExecutionContext,
    name: str,
    section: Any,
    train: Callable[[], Any],
    metadata: Callable[[Any], dict],
) -> dg.MaterializeResult:
    """Train (`train()`, a run with `version, path, card`) when `ml.cadence.decide` says so,
    else reuse the newest artefact of `name`; `metadata(run)` reads the run's card only."""
    from cdp.settings import get_settings
    from ml.cadence import decide, trained_at

    decision = decide(
        get_settings().models_dir,
        name,
        section,
        full_refresh=context.run.tags.get(FULL_REFRESH_TAG) == "true",
    )
    context.log.info(f"{name}: {'training' if decision.train else 'reusing'}: {decision.reason}")
    run = train() if decision.train else decision.saved
    note = run.card.get("backtest_note")
    if decision.train and note:
        context.log.warning(note)
    meta = metadata(run)
    meta["reused"] = dg.MetadataValue.bool(not decision.train)
    meta["retrain_reason" if decision.train else "reuse_reason"] = dg.MetadataValue.text(
        decision.reason
    )
    meta["trained_at"] = dg.MetadataValue.text(trained_at(run.card).isoformat())
    meta["retrain_after_days"] = dg.MetadataValue.int(section.retrain_after_days)
    return dg.MaterializeResult(metadata=meta)
