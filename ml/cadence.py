"""Retraining cadence: train a model again only when it is due, otherwise reuse the newest
artefact (its card says when it was trained and with which config section).

A model is trained when there is no usable artefact yet, when `retrain_after_days` is 0, when
the newest artefact is that many days old or older (by its card's `created_at`), when the
config section it was trained with differs from the current one, or when the run asks for it
(a full refresh). The scoring steps read the newest artefact either way (`LATEST`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ml.artifact import ArtifactError, latest_card
from ml.config import Retrained


@dataclass(frozen=True)
class SavedModel:
    """An artefact on disk, with the fields a training run also has (`version, path, card`)."""

    version: str
    path: Path
    card: dict


@dataclass(frozen=True)
class Decision:
    train: bool
    reason: str
    saved: SavedModel | None = None  # the artefact to reuse (when `train` is False)


def config_digest(section: dict) -> str:
    """SHA-256 of a config section as canonical JSON (the card's `config`, or a current one)."""
    return hashlib.sha256(json.dumps(section, sort_keys=True).encode()).hexdigest()


def trained_at(card: dict) -> datetime:
    return datetime.fromisoformat(card["created_at"]).astimezone(UTC)


def decide(
    models_dir: Path,
    name: str,
    section: Retrained,
    *,
    full_refresh: bool = False,
    now: datetime | None = None,
) -> Decision:
    """Train or reuse `<models_dir>/<name>`'s newest artefact, and why. `section` is the
    validated config the model is trained with (its `model_dump` is what the card records)."""
    days = section.retrain_after_days
    if full_refresh:
        return Decision(True, "full refresh requested by the run")
    if days == 0:
        return Decision(True, "retrain_after_days is 0: trained on every run")
    try:
        path, card = latest_card(models_dir, name)
        since = (now or datetime.now(UTC)) - trained_at(card)
        recorded = config_digest(card["config"])
    except FileNotFoundError:
        return Decision(True, f"no {name} artefact yet")
    except (ArtifactError, OSError, ValueError, KeyError, TypeError) as exc:
        return Decision(True, f"newest {name} artefact unusable ({type(exc).__name__})")
    version = card["version"]
    if recorded != config_digest(section.model_dump(mode="json")):
        return Decision(True, f"config changed since {version} was trained")
    if since.total_seconds() >= days * 86400:
        return Decision(True, f"{version} trained {since.days} days ago (cadence {days} days)")
    return Decision(
        False,
        f"{version} trained {since.days} days ago, config unchanged (cadence {days} days)",
        SavedModel(version, path, card),
    )
