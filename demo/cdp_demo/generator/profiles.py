"""Noise profiles (`noise_profiles.yaml`): how a profile turns a source's base rates into its own.

`standard` keeps every source's rates as they are; `unseen` scales them and adds kinds the
matcher was not written against (field_noise.py). The file is validated by pydantic and an
error names the file and the field.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cdp.config import ConfigError, read_yaml, validate_model
from cdp_demo.generator import noise as Z

PROFILES_YAML = Path(__file__).with_name("noise_profiles.yaml")
DEFAULT_PROFILE = "standard"
TYPO_CODES = (Z.SWAP, Z.DROP, Z.DOUBLE, Z.KEYBOARD, Z.PHONETIC, Z.OCR)
Rate = Field(default=0.0, ge=0.0, le=1.0)


def _codes(kinds: dict[str, float], names: tuple[str, ...], field: str) -> dict[int, float]:
    unknown = sorted(set(kinds) - set(names))
    if unknown:
        raise ValueError(f"unknown {field} kind(s) {unknown}; known: {', '.join(names[1:])}")
    return {names.index(kind): value for kind, value in kinds.items()}


def _scaled(base: dict[int, float], scale: dict[str, float], names: tuple[str, ...]) -> dict:
    factor = _codes(scale, names, "scale")
    return {code: rate * factor.get(code, 1.0) for code, rate in base.items()}


class NoiseProfile(BaseModel):
    """One profile: scales of the sources' rates per kind, and kinds of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    name_scale: dict[str, float] = {}
    typo_scale: float = Field(default=1.0, ge=0.0)
    typo_kinds: dict[str, float] | None = None  # how the typo mass is split; None: as the source
    name_extra: dict[str, float] = {}
    email_scale: dict[str, float] = {}
    email_extra: dict[str, float] = {}
    phone_formats: dict[str, float] | None = None  # replaces the sources' format mixes
    swap_names_at_least: float = Rate
    missing_scale: float = Field(default=1.0, ge=0.0)
    day_month_swap: float = Rate
    year_typo: float = Rate
    double_surname: float = Rate
    postcode_edit: float = Rate
    street_abbreviation: float = Rate

    @field_validator("name_scale", "name_extra", "typo_kinds")
    @classmethod
    def _name_kinds(cls, value: dict[str, float] | None, info) -> dict[str, float] | None:
        if value is not None:
            _codes(value, Z.NAME_VARIANTS, info.field_name)
            if info.field_name == "typo_kinds" and not sum(value.values()) > 0:
                raise ValueError("typo_kinds must have a positive total")
        return value

    @field_validator("email_scale", "email_extra")
    @classmethod
    def _email_kinds(cls, value: dict[str, float], info) -> dict[str, float]:
        _codes(value, Z.EMAIL_VARIANTS, info.field_name)
        return value

    @field_validator("phone_formats")
    @classmethod
    def _phone_kinds(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            missing = sorted(set(Z.PHONE_FORMATS) - set(value))
            if missing or set(value) - set(Z.PHONE_FORMATS):
                raise ValueError(f"give a weight for each of {', '.join(Z.PHONE_FORMATS)}")
        return value

    def names(self, base: dict[int, float]) -> dict[int, float]:
        """A source's name-noise rates under this profile (a source with none keeps none)."""
        out = _scaled(base, self.name_scale, Z.NAME_VARIANTS)
        if not out:
            return out
        typos = sum(out.pop(code, 0.0) for code in TYPO_CODES) * self.typo_scale
        if self.typo_kinds is None:
            out.update({c: base[c] * self.typo_scale for c in TYPO_CODES if c in base})
        else:
            split = _codes(self.typo_kinds, Z.NAME_VARIANTS, "typo_kinds")
            total = sum(split.values())
            out.update({code: typos * w / total for code, w in split.items()})
        return {**out, **_codes(self.name_extra, Z.NAME_VARIANTS, "name_extra")}

    def emails(self, base: dict[int, float]) -> dict[int, float]:
        out = _scaled(base, self.email_scale, Z.EMAIL_VARIANTS)
        return {**out, **_codes(self.email_extra, Z.EMAIL_VARIANTS, "email_extra")} if out else out

    def phones(self, base: tuple[float, ...]) -> tuple[float, ...]:
        """Weights per phone format, padded to every format the generator knows."""
        if self.phone_formats is not None:
            return tuple(self.phone_formats[name] for name in Z.PHONE_FORMATS)
        return tuple(base) + (0.0,) * (len(Z.PHONE_FORMATS) - len(base))

    def swap(self, rate: float) -> float:
        return max(rate, self.swap_names_at_least)

    def missing(self, base: dict[str, float]) -> dict[str, float]:
        return {key: min(rate * self.missing_scale, 0.9) for key, rate in base.items()}


@cache
def load_profiles(path: Path = PROFILES_YAML) -> dict[str, NoiseProfile]:
    """Every profile of `path`, validated; a bad file raises ConfigError naming the field."""
    raw = read_yaml(path)
    if DEFAULT_PROFILE not in raw:
        raise ConfigError(f"{path}: expected a mapping of profiles including {DEFAULT_PROFILE!r}")
    return {
        str(name): validate_model(body, NoiseProfile, path, prefix=str(name))
        for name, body in raw.items()
    }


def profile_names() -> tuple[str, ...]:
    return tuple(load_profiles())


def get_profile(name: str) -> NoiseProfile:
    profiles = load_profiles()
    if name not in profiles:
        raise ValueError(f"unknown noise profile {name!r}; known: {', '.join(profiles)}")
    return profiles[name]
