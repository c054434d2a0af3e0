"""Configuration of identity resolution (``config/identity.yaml``), validated by pydantic.

Unknown keys are rejected and every error names the file and the field, so a typo in the YAML
fails loudly instead of silently switching a rule off.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cdp.config import load_yaml_model

#: Fields of a normalised record that comparisons and blocking keys may use.
RecordField = Literal[
    "first_name",
    "last_name",
    "birth_date",
    "street",
    "postcode",
    "city",
    "email",
    "phone",
    "personal_id",
]
#: Fields derived from the record fields for blocking only (see identity.engine.prepare).
DerivedField = Literal[
    "first_name_sound",
    "last_name_sound",
    "birth_year",
    "email_local",
    "phone_last8",
    "names_any_order",
]
BlockingField = RecordField | DerivedField
#: Identifier types that come from the records themselves (not from the identifiers table).
RECORD_ID_TYPES = ("email", "phone")


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
    (similarity >= ``threshold``, in [0, 1]; with ``same_numbers`` the numbers of both values
    (a street number) must also be equal), ``damerau_levenshtein`` (at most
    ``max_distance`` insertions, deletions, substitutions or adjacent transpositions),
    ``prefix`` / ``suffix`` (first / last ``length`` characters equal: a phone's last digits),
    ``contains`` (one key, at least ``length`` long, inside the other: a compound or married
    surname written in part), ``date_typo`` (dates equal but for day/month swapped or one
    differing digit), ``date_close`` (at most ``max_distance`` digit edits), ``date_year``
    (same day and month, another year), ``local_part_typo`` (e-mails on one domain whose
    local parts differ by one typo, not by separators or digits alone nor in the first letter:
    ``marie.d`` / ``marie_d``, ``jeanrobert`` / ``jeanrobert2`` and ``e.willems`` /
    ``l.willems`` are two members of a family more often than one typo), ``initial`` (one
    side is a single letter equal to the other's first letter), ``nickname`` (a diminutive and its name, from a general multilingual
    list: Max/Maximilian, Adrien/Adrian), ``gender_variant`` (Louis/Louise, Julien/Julie), ``else``.

    ``m`` = P(level | same person) and ``u`` = P(level | different persons) are starting
    points: every run estimates them from the data (u from random record pairs, m by
    expectation-maximisation on the candidate pairs; see :class:`Estimation`), unless
    ``fixed: true``. A level adds ``log2(m/u)`` to the pair's match weight.
    ``review``: what a pair at this level needs besides its match probability to be linked.
    ``always``: nothing links it; a probable pair goes to the review list (Louis/Louise: a
    household more often than a typo). ``if_contradicted``: it is linked only when no other
    field of the pair disagrees (is at its ``else`` level) and one of
    ``Probabilistic.personal_fields`` (fields a household does not share) agrees; otherwise
    it goes to the review list. Two different first names with the same birth date and
    everything else equal (a first name replaced in one file) link; a household (same last
    name and address, no shared birth date) and twins who differ by their e-mail or mobile
    wait for a person.
    ``term_frequency: true`` (exact levels only): u is the share of records holding the agreed
    value, so agreeing on a rare surname weighs more than on ``martin``, and agreeing on a
    default typed into a form (a birth date held by thousands) weighs little.
    """

    name: str
    kind: Literal[
        "exact",
        "jaro_winkler",
        "token_set",
        "levenshtein",
        "damerau_levenshtein",
        "prefix",
        "suffix",
        "contains",
        "date_typo",
        "date_close",
        "date_year",
        "local_part_typo",
        "initial",
        "nickname",
        "gender_variant",
        "else",
    ]
    threshold: float | None = Field(default=None, ge=0, le=1)
    length: int | None = Field(default=None, ge=1)
    max_distance: int | None = Field(default=None, ge=1, le=4)
    same_numbers: bool = False
    m: float = Field(gt=0, le=1)
    u: float = Field(gt=0, le=1)
    review: Literal["no", "always", "if_contradicted"] = "no"
    fixed: bool = False
    term_frequency: bool = False

    @model_validator(mode="after")
    def _params(self) -> ComparisonLevel:
        if self.term_frequency and self.kind != "exact":
            raise ValueError(f"level {self.name!r}: term_frequency needs kind exact")
        if self.kind in ("jaro_winkler", "token_set", "levenshtein") and self.threshold is None:
            raise ValueError(f"level {self.name!r}: kind {self.kind} needs a threshold")
        if self.kind in ("prefix", "suffix", "contains") and self.length is None:
            raise ValueError(f"level {self.name!r}: kind {self.kind} needs a length")
        if self.kind in ("damerau_levenshtein", "date_close") and self.max_distance is None:
            raise ValueError(f"level {self.name!r}: kind {self.kind} needs a max_distance")
        if self.same_numbers and self.kind not in ("jaro_winkler", "token_set", "levenshtein"):
            raise ValueError(f"level {self.name!r}: same_numbers needs a similarity kind")
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


class Estimation(_Strict):
    """How the m and u probabilities and the prior are estimated from the data on every run.

    u: the level frequencies among ``u_sample_pairs`` random record pairs (almost all of them
    different persons). m and the share of matches among candidate pairs: expectation-
    maximisation on the candidate pairs, with u fixed. The YAML values are the starting point
    and a Dirichlet prior worth ``prior_pairs`` candidate pairs for m and ``u_prior_pairs``
    random pairs for u, so a small file cannot drive a level to 0 or 1 (in a file of five
    copies of one person, every random pair is a match); the first estimate of the prior is the share of candidate pairs already joined by
    the deterministic rules, and the prior never exceeds ``max_prior``: when blocking finds
    almost only matches, a pair still needs evidence of its own to be linked. The candidate
    pairs joined by the deterministic rules anchor the EM as known matches; a file with fewer
    than ``min_anchor_pairs`` of them (no shared identifier) is anchored on the pairs equal on
    every field they both have instead. ``enabled: false`` uses the YAML values as they are.
    """

    enabled: bool = True
    u_sample_pairs: int = Field(default=300_000, ge=1000)
    max_iterations: int = Field(default=60, ge=1)
    tolerance: float = Field(default=1e-5, gt=0)
    prior_pairs: float = Field(default=20.0, ge=0)
    u_prior_pairs: float = Field(default=1000.0, ge=0)
    max_prior: float = Field(default=0.5, gt=0, lt=1)
    min_anchor_pairs: int = Field(default=30, ge=0)
    min_pass_pairs: int = Field(default=50, ge=1)
    min_joined_pairs: int = Field(default=1000, ge=1)
    seed: int = 0


class Probabilistic(_Strict):
    """Fellegi-Sunter matching on candidate pairs produced by blocking.

    ``blocking_keys``: each is a list of fields that must all be equal (normalised) for two
    records to become a candidate pair; blocks larger than ``max_block_size`` are skipped and
    reported. Besides the record fields, keys may use derived fields: ``first_name_sound`` /
    ``last_name_sound`` (phonetic codes), ``birth_year``, ``email_local`` (the part before @),
    ``phone_last8``, ``names_any_order`` (first and last name whichever way round). In a
    block of more than ``block_window`` records, a record is paired only with the
    ``block_window - 1`` records on either side of it in the neighbourhood order
    (``blocking.NEIGHBOURHOOD``): the pairs grow with the records, not with their square.
    A pair whose match probability reaches ``match_probability`` is linked;
    pairs at one home with no personal field to tell them apart are held as possible namesakes
    unless this file shows few of them: of its pairs at one home under one full name whose
    personal fields are known on both sides, at most ``namesake_rate_max`` disagree (counted on
    at least ``namesake_min_pairs`` such pairs, else the guard holds);
    pairs from ``review_probability`` up (and pairs held back by a ``review`` level) are
    written to the review list. Term-frequency levels only adjust values held by at least
    ``term_frequency_min_count`` records: in a small file every value looks frequent.
    """

    enabled: bool = True
    blocking_keys: list[list[BlockingField]] = Field(min_length=1)
    max_block_size: int = Field(default=200, ge=2)
    block_window: int | None = Field(default=None, ge=2)
    comparisons: list[Comparison] = Field(min_length=1)
    match_probability: float = Field(default=0.99, gt=0, lt=1)
    review_probability: float = Field(default=0.5, gt=0, lt=1)
    min_agreeing_fields: int = Field(default=3, ge=1)
    evidence_min_fill: float = Field(default=0.05, ge=0, le=1)
    personal_fields: list[RecordField] = Field(
        default_factory=lambda: ["birth_date", "email", "phone", "personal_id"]
    )
    personal_disagreements: int = Field(default=1, ge=1)
    personal_min_weight: float = Field(default=6.0, ge=0)
    namesake_rate_max: float = Field(default=0.10, ge=0, le=1)
    namesake_min_pairs: int = Field(default=30, ge=1)
    estimation: Estimation = Field(default_factory=Estimation)
    compare_swapped_names: bool = True
    term_frequency_min_count: int = Field(default=10, ge=2)

    @model_validator(mode="after")
    def _band(self) -> Probabilistic:
        if self.review_probability > self.match_probability:
            raise ValueError("review_probability must be <= match_probability")
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


class NameVariants(_Strict):
    """First names this file shows as one person's, for the name guard of guarded rules.

    Two first names sharing one e-mail address under one last name are a diminutive, a
    recurring typo or a household (Marie and Paul Dupont on one family address). The file
    tells them apart: a variant (Momo, Mimie, Jezn) sits with one name (Monique, Marie, Jean)
    in family after family, a spouse's name with many. A pair is learned when it shares
    addresses in at least ``min_persons`` families (distinct last names) and in at least
    ``min_share`` of the e-mail-sharing families of the rarer of the two names. Addresses
    carried by more than ``max_names_per_value`` distinct names (a shop's, a placeholder) are
    not read.
    """

    enabled: bool = True
    min_persons: int = Field(default=3, ge=2)
    min_share: float = Field(default=0.5, gt=0, le=1)
    max_names_per_value: int = Field(default=3, ge=2)


class IdentityConfig(_Strict):
    """Everything that drives :func:`identity.resolve`."""

    default_region: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    email_ignore_gmail_dots: bool = True
    deterministic: list[DeterministicRule] = Field(min_length=1)
    blocklist: dict[str, Blocklist] = Field(default_factory=dict)
    name_compatibility_threshold: float = Field(default=0.85, ge=0, le=1)
    name_variants: NameVariants = Field(default_factory=NameVariants)
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

    Raises :class:`cdp.config.ConfigError` naming the file and each offending field.
    """
    path = Path(path) if path is not None else default_config_path()
    return load_yaml_model(path, IdentityConfig)
