"""How a true person looks in a source record at a given time, with planted noise."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cdp_demo.generator import field_noise as F
from cdp_demo.generator import noise as Z
from cdp_demo.generator.profiles import NoiseProfile, get_profile

DEFAULT_NAME_NOISE = {
    Z.NO_ACCENT: 0.06,
    Z.SWAP: 0.012,
    Z.DROP: 0.012,
    Z.DOUBLE: 0.008,
    Z.UPPER: 0.04,
    Z.LOWER: 0.01,
    Z.NICK: 0.025,
    Z.SPACES: 0.01,
}
DEFAULT_EMAIL_NOISE = {
    Z.E_CASE: 0.06,
    Z.E_UPPER: 0.02,
    Z.E_PLUS: 0.015,
    Z.E_DOTS: 0.02,
    Z.E_DOMAIN_TYPO: 0.01,
    Z.E_ALT: 0.06,
    Z.E_MISSING: 0.0,
    Z.E_SPACES: 0.01,
}
DEFAULT_PHONE_FORMATS = (0.40, 0.15, 0.05, 0.12, 0.13, 0.10, 0.05)


@dataclass
class NoiseLog:
    """Per-record planted noise: (source_system, source_key, field, noise_type)."""

    parts: list = field(default_factory=list)

    def add(
        self,
        system: str,
        keys: np.ndarray,
        field_name: str,
        labels: np.ndarray | str,
        mask: np.ndarray,
    ) -> None:
        """Log the `keys` under `mask`; `labels` per key, or one label for all of them."""
        if isinstance(labels, str):
            labels = np.full(len(keys), labels, dtype=object)
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.parts.append(
                pd.DataFrame(
                    {
                        "source_system": system,
                        "source_key": np.asarray(keys, dtype=object)[mask],
                        "field": field_name,
                        "noise_type": np.asarray(labels, dtype=object)[mask],
                    }
                )
            )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["source_system", "source_key", "field", "noise_type"])
        return pd.concat(self.parts, ignore_index=True)


def person_view(
    P: pd.DataFrame,
    pidx: np.ndarray,
    t: np.ndarray,
    rng: np.random.Generator,
    name_noise: dict | None = None,
    email_noise: dict | None = None,
    phone_formats=DEFAULT_PHONE_FORMATS,
    swap_names: float = 0.0,
    landline_share: float = 0.0,
    missing: dict | None = None,
    profile: NoiseProfile | None = None,
) -> dict:
    """Identity fields of persons `pidx` as typed into a source at times `t`.

    Married women appear under their maiden name before the wedding, movers at their old
    address before the move; then noise is drawn per record and returned with the values.
    The source's rates are the ones the noise `profile` makes of them (default `standard`).
    """
    n = pidx.size
    profile = profile or get_profile("standard")
    name_noise = profile.names(DEFAULT_NAME_NOISE if name_noise is None else name_noise)
    email_noise = profile.emails(DEFAULT_EMAIL_NOISE if email_noise is None else email_noise)
    phone_formats = profile.phones(phone_formats)
    swap_names = profile.swap(swap_names)
    missing = profile.missing(missing or {})
    first_true = P["first_name"].to_numpy()[pidx]
    last_true = P["last_name"].to_numpy()[pidx]
    married_at = P["married_at"].to_numpy()[pidx]
    maiden = (married_at >= 0) & (t < married_at)
    last_true = np.where(maiden, P["maiden_name"].to_numpy()[pidx], last_true)
    f_codes = Z.draw_codes(n, rng, name_noise)
    l_codes = Z.draw_codes(n, rng, {k: v for k, v in name_noise.items() if k != Z.NICK})
    first = Z.apply_variants(first_true, f_codes, rng, nicknames=True)
    last = Z.apply_variants(last_true, l_codes, rng)
    extra: dict[tuple[str, str], np.ndarray] = {}
    if profile.double_surname:
        last, extra[("last_name", "double_surname")] = F.double_surnames(
            last,
            rng.random(n) < profile.double_surname,
            rng,
            P["last_name"].to_numpy(),
            P["country"].to_numpy()[pidx] == "ES",
            np.where(maiden, None, P["maiden_name"].to_numpy()[pidx]),
        )
    swapped = rng.random(n) < swap_names
    first, last = np.where(swapped, last, first), np.where(swapped, first, last)

    e_codes = Z.draw_codes(n, rng, email_noise)
    email_true = P["email"].to_numpy()[pidx]
    email = Z.email_variants(email_true, P["alt_email"].to_numpy()[pidx], e_codes, rng)
    # a requested variant that leaves the value unchanged (no accent to drop...) is not noise
    f_codes = np.where(first == first_true, Z.EXACT, f_codes).astype(np.int8)
    l_codes = np.where(last == last_true, Z.EXACT, l_codes).astype(np.int8)
    e_codes = np.where(email == email_true, Z.E_EXACT, e_codes).astype(np.int8)

    use_land = (rng.random(n) < landline_share) & pd.notna(P["landline"].to_numpy()[pidx])
    nsn = np.where(use_land, P["landline"].to_numpy()[pidx], P["mobile"].to_numpy()[pidx])
    p_codes = rng.choice(len(Z.PHONE_FORMATS), n, p=np.array(phone_formats) / sum(phone_formats))
    phone = Z.format_phones(P["phone_cc"].to_numpy()[pidx], nsn, p_codes)

    moved_at = P["moved_at"].to_numpy()[pidx]
    old = (moved_at >= 0) & (t < moved_at)
    view = {
        "first": first,
        "last": last,
        "email": email,
        "phone": phone,
        "street": np.where(old, P["old_street"].to_numpy()[pidx], P["street"].to_numpy()[pidx]),
        "postcode": np.where(
            old, P["old_postcode"].to_numpy()[pidx], P["postcode"].to_numpy()[pidx]
        ),
        "city": np.where(old, P["old_city"].to_numpy()[pidx], P["city"].to_numpy()[pidx]),
        "country": np.where(old, P["old_country"].to_numpy()[pidx], P["country"].to_numpy()[pidx]),
        "birth_day": P["birth_date"].to_numpy()[pidx].astype("datetime64[D]").astype(np.int64),
        "gender": P["gender"].to_numpy()[pidx],
        "f_codes": f_codes,
        "l_codes": l_codes,
        "e_codes": e_codes,
        "p_codes": p_codes,
        "swapped": swapped,
        "landline": use_land,
        "old_address": old,
        "maiden": maiden,
    }
    view = {k: np.array(v) for k, v in view.items()}  # writable copies (pandas views are read-only)
    _field_noise(view, profile, rng, extra)
    view.update(
        {f"noise|{field_name}|{label}": mask for (field_name, label), mask in extra.items()}
    )
    for key, rate in missing.items():
        gone = rng.random(n) < rate
        view[key] = np.where(gone, None, view[key])
        view[f"missing_{key}"] = gone
    return view


def _field_noise(view: dict, profile: NoiseProfile, rng: np.random.Generator, extra: dict) -> None:
    """The profile's errors on dates, postcodes and streets, logged in `extra`."""
    n = view["first"].size
    if profile.day_month_swap:
        view["birth_day"], extra[("birth_day", "day_month_swap")] = F.day_month_swap(
            view["birth_day"], rng.random(n) < profile.day_month_swap
        )
    if profile.year_typo:
        view["birth_day"], extra[("birth_day", "year_typo")] = F.year_typo(
            view["birth_day"], rng.random(n) < profile.year_typo, rng
        )
    if profile.postcode_edit:
        view["postcode"], extra[("postcode", "postcode_edit")] = F.postcode_edit(
            view["postcode"], rng.random(n) < profile.postcode_edit, rng
        )
    if profile.street_abbreviation:
        view["street"], extra[("street", "street_abbreviation")] = F.street_abbreviation(
            view["street"], rng.random(n) < profile.street_abbreviation, rng
        )


def log_view(
    log: NoiseLog, system: str, keys: np.ndarray, view: dict, address: bool = True
) -> None:
    names = np.array(Z.NAME_VARIANTS, dtype=object)
    log.add(system, keys, "first_name", names[view["f_codes"]], view["f_codes"] != Z.EXACT)
    log.add(system, keys, "last_name", names[view["l_codes"]], view["l_codes"] != Z.EXACT)
    log.add(system, keys, "name", "first_last_swapped", view["swapped"])
    emails = np.array(Z.EMAIL_VARIANTS, dtype=object)
    log.add(system, keys, "email", emails[view["e_codes"]], view["e_codes"] != Z.E_EXACT)
    log.add(system, keys, "address", "old_address", view["old_address"])
    log.add(system, keys, "last_name", "maiden_name", view["maiden"])
    for key, mask in view.items():
        if key.startswith("noise|"):  # the profile's own kinds: noise|<field>|<label>
            _, field_name, label = key.split("|")
            log.add(system, keys, field_name, label, mask)
    for key in ("first", "last", "email", "phone", "street", "birth_day"):
        if f"missing_{key}" in view:
            log.add(system, keys, key, "missing", view[f"missing_{key}"])
