"""Configuration of identity resolution (``config/identity.yaml``), validated by pydantic.

Unknown keys are rejected and every error names the file and the field, so a typo in the YAML
fails loudly instead of silently switching a rule off.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: Fields of a normalised record that comparisons and blocking keys may use.
RecordField = Literal[
    "first_name", "last_name", "birth_date", "street", "postcode", "city", "email", "phone"
]
#: Identifier types that come from the records themselves (not from the identifiers table).
RECORD_ID_TYPES = ("email", "phone")


class IdentityConfigError(ValueError):
    """The identity configuration is invalid; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeterministicRule(_Strict):
    """Records sharing a value of ``id_type`` are the same person (subject to the guard).

    ``id_type`` is ``email`` (the e-mail match key), ``phone`` (E.164) or any ``id_type`` of the
    identifiers table (``shop_customer_id``, ``loyalty_card_id``, ``esp_contact_id``, ...).
    ``guard: names`` links two records only when their first names are compatible (same
    canonical first name, a close spelling, an initial, or one side without a first name): a
    household phone shared by Marie and Paul Dupont then links nobody.
    ``max_distinct_names`` is the frequency cap: a value carried by more distinct name keys
    (first + last) is ignored for this rule and reported (the boutique's own e-mail typed in for
    walk-ins, a placeholder phone).
    """

    name: str
    id_type: str
    guard: Literal["none", "names"] = "none"
    max_distinct_names: int | None = Field(default=None, ge=1)


class Blocklist(_Strict):
    """Values never used to link records: exact values (after normalisation) and regexes."""

    values: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {p!r}: {exc}") from exc
        return patterns


class ComparisonLevel(_Strict):
    """One agreement level of a comparison, tried in order; the first that holds is used.

    ``kind``: ``exact`` (equal keys), ``jaro_winkler`` / ``token_set`` / ``levenshtein``
    (similarity >= ``threshold``, in [0, 1]), ``prefix`` (first ``length`` characters equal),
    ``date_typo`` (dates equal but for day/month swapped or one differing digit),
    ``initial`` (one side is a single letter equal to the other's first letter),
    ``nickname`` (a nickname and one of the names it stands for: Max/Maxime),
    ``gender_variant`` (one first name is the other plus a gender ending: Louis/Louise,
    Julien/Julie), ``else``.
    ``m`` = P(level | same person), ``u`` = P(level | different persons); the level adds
    ``log2(m/u)`` to the pair's score. ``veto: true`` forbids a match at this level whatever
    the score (e.g. two different first names: a household, not a typo).
    ``term_frequency: true`` (exact levels only): when the agreed value is held by a larger
    share of records than ``u``, that share is used instead, so agreeing on a default typed
    into a form (a birth date held by thousands) weighs little while a rare value keeps ``u``.
    """

    name: str
    kind: Literal[
        "exact",
        "jaro_winkler",
        "token_set",
        "levenshtein",
        "prefix",
        "date_typo",
        "initial",
        "nickname",
        "gender_variant",
        "else",
    ]
    threshold: float | None = Field(default=None, ge=0, le=1)
    length: int | None = Field(default=None, ge=1)
    m: float = Field(gt=0, le=1)
    u: float = Field(gt=0, le=1)
    veto: bool = False
    term_frequency: bool = False

    @model_validator(mode="after")
    def _params(self) -> ComparisonLevel:
        if self.term_frequency and self.kind != "exact":
            raise ValueError(f"level {self.name!r}: term_frequency needs kind exact")
        if self.kind in ("jaro_winkler", "token_set", "levenshtein") and self.threshold is None:
            raise ValueError(f"level {self.name!r}: kind {self.kind} needs a threshold")
        if self.kind == "prefix" and self.length is None:
            raise ValueError(f"level {self.name!r}: kind prefix needs a length")
        return self

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


class Comparison(_Strict):
    """Levels for one field; a missing value on either side contributes 0."""

    field: RecordField
    levels: list[ComparisonLevel] = Field(min_length=2)

    @model_validator(mode="after")
    def _last_is_else(self) -> Comparison:
        if self.levels[-1].kind != "else":
            raise ValueError(f"comparison {self.field!r}: the last level must have kind 'else'")
        return self


class Probabilistic(_Strict):
    """Fellegi-Sunter matching on candidate pairs produced by blocking.

    ``blocking_keys``: each is a list of fields that must all be equal (normalised) for two
    records to become a candidate pair; blocks larger than ``max_block_size`` are skipped and
    reported. A pair whose summed weight reaches ``match_threshold`` is linked; pairs in
    [``possible_match_threshold``, ``match_threshold``) are reported as possible matches only.
    Term-frequency levels only adjust values held by at least ``term_frequency_min_count``
    records: in a small file every value looks frequent.
    """

    enabled: bool = True
    blocking_keys: list[list[RecordField]] = Field(min_length=1)
    max_block_size: int = Field(default=200, ge=2)
    comparisons: list[Comparison] = Field(min_length=1)
    match_threshold: float
    possible_match_threshold: float
    compare_swapped_names: bool = True
    term_frequency_min_count: int = Field(default=10, ge=2)

    @model_validator(mode="after")
    def _band(self) -> Probabilistic:
        if self.possible_match_threshold > self.match_threshold:
            raise ValueError("possible_match_threshold must be <= match_threshold")
        return self


class Conflicts(_Strict):
    """Links of ``rules`` are refused when they would join records that cannot be one person.

    ``birth_date``: two different known birth dates (a typo or day/month swap is not a
    difference). ``mobile_phone``: two different mobile numbers (a household landline is
    shared, a mobile is not).
    """

    enabled: bool = True
    rules: list[str] = Field(default_factory=lambda: ["email", "phone", "probabilistic"])
    birth_date: bool = True
    mobile_phone: bool = True


class IdentityConfig(_Strict):
    """Everything that drives :func:`cdp.identity.resolve`."""

    default_region: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    email_ignore_gmail_dots: bool = True
    deterministic: list[DeterministicRule] = Field(min_length=1)
    blocklist: dict[str, Blocklist] = Field(default_factory=dict)
    name_compatibility_threshold: float = Field(default=0.85, ge=0, le=1)
    probabilistic: Probabilistic
    max_cluster_size: int = Field(default=100, ge=2)
    conflicts: Conflicts = Field(default_factory=Conflicts)

    @model_validator(mode="after")
    def _unique_rules(self) -> IdentityConfig:
        names = [r.name for r in self.deterministic]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes or "probabilistic" in names:
            raise ValueError(
                f"deterministic rule names must be unique and not 'probabilistic': {dupes}"
            )
        return self

    @model_validator(mode="after")
    def _known_conflict_rules(self) -> IdentityConfig:
        known = {r.name for r in self.deterministic} | {"probabilistic"}
        unknown = set(self.conflicts.rules) - known
        if unknown:
            raise ValueError(f"conflicts.rules: unknown rule(s) {sorted(unknown)}")
        return self

    def rule_priority(self) -> dict[str, int]:
        """Rule name -> priority (0 = strongest: the first deterministic rule in the file)."""
        order = {r.name: i for i, r in enumerate(self.deterministic)}
        order["probabilistic"] = len(order)
        return order


def default_config_path() -> Path:
    from cdp.settings import get_settings

    return get_settings().config_dir / "identity.yaml"


def load_config(path: str | Path | None = None) -> IdentityConfig:
    """Load and validate ``config/identity.yaml`` (or ``path``).

    Raises :class:`IdentityConfigError` naming the file and each offending field.
    """
    path = Path(path) if path is not None else default_config_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IdentityConfigError(f"{path}: identity configuration file not found") from exc
    except yaml.YAMLError as exc:
        raise IdentityConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise IdentityConfigError(f"{path}: expected a mapping at the top level")
    try:
        return IdentityConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise IdentityConfigError(f"{path}: invalid identity configuration: {problems}") from exc
