"""`config/consent.yaml`: the vocabulary consent statements are read with.

Preference-centre exports spell one status, channel or purpose many ways (`unsubscribed`,
`opt-out`, `désinscrit`; `e-mail`, `courriel`). Each raw value is folded (case, accents and
punctuation ignored) and looked up here; a value that matches nothing is *unreadable*, which
the consent marts treat as a withdrawal (fail safe). The same code backs the dbt UDFs
(`cdp_consent_term`, `cdp_consent_time`) and any Python reader, so the vocabulary is declared
once.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cdp.config import load_yaml_model

CANONICAL = {
    "status": ("granted", "withdrawn"),
    "channel": ("email", "sms", "phone", "ads"),
    "purpose": ("marketing", "profiling"),
}


def fold(value: object) -> str:
    """Comparison key: accents stripped, case folded, punctuation and spaces collapsed."""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


class ConsentVocabulary(BaseModel):
    """Terms per canonical status, channel and purpose, and the accepted date formats."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: dict[str, list[str]]
    channel: dict[str, list[str]]
    purpose: dict[str, list[str]]
    date_formats: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _canonical_and_unambiguous(self) -> ConsentVocabulary:
        for kind, allowed in CANONICAL.items():
            mapping: dict[str, list[str]] = getattr(self, kind)
            unknown = sorted(set(mapping) - set(allowed))
            if unknown:
                raise ValueError(f"{kind}: unknown value(s) {unknown}; allowed: {list(allowed)}")
            owner: dict[str, str] = {}
            for canonical, terms in mapping.items():
                for term in [canonical, *terms]:
                    key = fold(term)
                    if owner.setdefault(key, canonical) != canonical:
                        raise ValueError(
                            f"{kind}: term {term!r} is listed under both "
                            f"{owner[key]!r} and {canonical!r}"
                        )
        return self

    def lookup(self, kind: str) -> dict[str, str]:
        """Folded term -> canonical value, for `status`, `channel` or `purpose`."""
        mapping: dict[str, list[str]] = getattr(self, kind)
        return {fold(t): c for c, terms in mapping.items() for t in [c, *terms]}

    def term(self, kind: str, value: str | None) -> str | None:
        """The canonical value of a raw status/channel/purpose, None when unreadable."""
        if value is None:
            return None
        return self.lookup(kind).get(fold(value))

    def parse_time(self, value: str | None) -> dt.datetime | None:
        """A timestamp in ISO 8601 or one of `date_formats`, in UTC; None when unreadable."""
        if value is None or not str(value).strip():
            return None
        text = str(value).strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
            for fmt in self.date_formats:
                try:
                    parsed = dt.datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)


def load_consent_vocabulary(path: Path | None = None) -> ConsentVocabulary:
    """Read and validate the vocabulary (default `<CDP_CONFIG_DIR>/consent.yaml`)."""
    if path is None:
        from cdp.settings import get_settings

        path = get_settings().config_dir / "consent.yaml"
    path = Path(path).resolve()
    return _load(path, path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> ConsentVocabulary:
    """Cached per file version (the dbt UDFs call this for every batch); a bad file raises
    `cdp.config.ConfigError` naming the file and the field."""
    return load_yaml_model(path, ConsentVocabulary)
