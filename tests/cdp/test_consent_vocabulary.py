"""config/consent.yaml: validated, folded lookups, dates in the listed formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cdp.config import ConfigError
from cdp.consent_vocabulary import load_consent_vocabulary
from cdp.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "config" / "consent.yaml"


def test_shipped_vocabulary_maps_the_variants_seen_in_exports() -> None:
    vocabulary = load_consent_vocabulary(SHIPPED)
    for raw in ("unsubscribed", "Opt-Out", "désinscrit", "DESINSCRIT", " opted out "):
        assert vocabulary.term("status", raw) == "withdrawn", raw
    for raw in ("e-mail", "E_Mail", "mail", "courriel"):
        assert vocabulary.term("channel", raw) == "email", raw
    assert vocabulary.term("status", "peut-être") is None
    assert vocabulary.term("channel", "pigeon") is None
    assert vocabulary.parse_time("10/02/2025 10:00") == dt.datetime(2025, 2, 10, 10, tzinfo=dt.UTC)
    assert vocabulary.parse_time("2025-02-10T11:00:00+01:00") == dt.datetime(
        2025, 2, 10, 10, tzinfo=dt.UTC
    )
    assert vocabulary.parse_time("hier") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status: {maybe: [perhaps]}\nchannel: {}\npurpose: {}\n", "status: unknown value"),
        (
            "status: {granted: [ok], withdrawn: [OK]}\nchannel: {}\npurpose: {}\n",
            "'OK' is listed under both 'granted' and 'withdrawn'",
        ),
        ("status: {}\nchannel: {}\npurpose: {}\nlanguage: fr\n", "language"),
    ],
)
def test_invalid_vocabulary_names_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "consent.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_consent_vocabulary(path)
    assert str(path) in str(error.value) and message in str(error.value)
