"""The population of true persons: identity attributes, households and behaviour profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdp_demo.generator import names as N
from cdp_demo.generator.noise import fold

DAY = 86_400
PROFILES = ("loyal", "lapsing", "churned", "new", "one_off")
PROFILE_WEIGHTS = (0.22, 0.20, 0.20, 0.15, 0.23)
CHANNELS = ("web", "store", "both")
COUNTRY_CC = {
    "FR": "33",
    "MC": "377",
    "BE": "32",
    "CH": "41",
    "ES": "34",
    "DE": "49",
    "IT": "39",
    "GB": "44",
}
COUNTRY_POOLS = {
    "BE": (N.BE_FIRST_F, N.BE_FIRST_M, N.BE_LAST),
    "CH": (N.CH_FIRST_F, N.CH_FIRST_M, N.CH_LAST),
    "ES": (N.ES_FIRST_F, N.ES_FIRST_M, N.ES_LAST),
    "DE": (N.DE_FIRST_F, N.DE_FIRST_M, N.DE_LAST),
    "IT": (N.IT_FIRST_F, N.IT_FIRST_M, N.IT_LAST),
    "GB": (N.GB_FIRST_F, N.GB_FIRST_M, N.GB_LAST),
}
FOREIGN_DOMAINS = {
    "BE": "skynet.be",
    "CH": "bluewin.ch",
    "ES": "telefonica.net",
    "DE": "gmx.de",
    "IT": "libero.it",
    "GB": "btinternet.com",
    "MC": "monaco.mc",
}


def _clean(pool) -> np.ndarray:
    return np.array([x.replace("_", " ") for x in pool], dtype=object)


def zipf_choice(
    rng: np.random.Generator, pool: np.ndarray, size: int, s: float = 0.9
) -> np.ndarray:
    w = 1.0 / (np.arange(len(pool)) + 3.0) ** s
    return pool[rng.choice(len(pool), size=size, p=w / w.sum())]


def unique_numbers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """n distinct integers in [low, high) in random order (redraws the few collisions)."""
    values = rng.integers(low, high, size=n)
    while True:
        _, first = np.unique(values, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            return values
        values[dup] = rng.integers(low, high, size=int(dup.sum()))


def unique_mailboxes(local: pd.Series, domain: pd.Series) -> np.ndarray:
    """E-mail addresses in which no two rows share a mailbox.

    Two true persons must never own one mailbox: the pipeline rightly merges records that share
    an address, so a collision here would be scored as an over-merge. The mailbox key ignores
    dots and plus-tags, which the noise step adds or removes, and a number appended to break a
    tie can create a new tie (``jean.bernard8`` + ``6``), hence the loop. Earlier rows keep
    their address, so pass primary addresses before alternative ones.
    """
    local = local.reset_index(drop=True).copy()
    domain = domain.reset_index(drop=True)
    while True:
        key = local.str.replace(".", "", regex=False).str.split("+").str[0] + "@" + domain
        k = key.groupby(key, sort=False).cumcount()
        if not (k > 0).any():
            return (local + "@" + domain).to_numpy(dtype=object)
        local = local.where(k == 0, local + (k + 1).astype(str))


def build_persons(n: int, rng: np.random.Generator, start_s: int, end_s: int) -> pd.DataFrame:
    """N true persons with attributes, household links and behaviour parameters."""
    width = end_s - start_s
    # households: consecutive persons share an address
    sizes = rng.choice([1, 2, 3, 4], size=n, p=[0.62, 0.27, 0.08, 0.03])
    household = np.repeat(np.arange(n), sizes)[:n]
    hh_size = np.bincount(household)[household]
    rank = np.arange(n) - np.searchsorted(household, household)  # position inside household
    n_hh = int(household[-1]) + 1

    # places per household
    city_w = np.array([c[3] for c in N.CITIES], dtype=float)
    hh_city = rng.choice(len(N.CITIES), size=n_hh, p=city_w / city_w.sum())
    city_idx = hh_city[household]
    cities = np.array([c[0] for c in N.CITIES], dtype=object)
    countries = np.array([c[1] for c in N.CITIES], dtype=object)
    area = np.array([c[4] for c in N.CITIES], dtype=object)

    def addresses(size: int, cidx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pc_pick = rng.random(size)
        postcode = np.array(
            [
                N.CITIES[c][2][int(u * len(N.CITIES[c][2]))]
                for c, u in zip(cidx, pc_pick, strict=True)
            ]
            if size < 50_000
            else _vector_postcodes(cidx, pc_pick),
            dtype=object,
        )
        st_type = rng.choice(
            N.STREET_TYPES,
            size=size,
            p=np.array(N.STREET_TYPE_WEIGHTS) / sum(N.STREET_TYPE_WEIGHTS),
        )
        st_name = np.array(N.STREET_NAMES, dtype=object)[rng.integers(0, len(N.STREET_NAMES), size)]
        number = rng.integers(1, 180, size).astype(str)
        bis = np.where(rng.random(size) < 0.04, " bis", "")
        street = (
            pd.Series(number) + pd.Series(bis) + " " + pd.Series(st_type) + " " + pd.Series(st_name)
        ).to_numpy(dtype=object)
        return street, postcode

    hh_street, hh_postcode = addresses(n_hh, hh_city)
    country = countries[city_idx]
    cc = (
        np.array([COUNTRY_CC[c] for c in country], dtype=object)
        if n < 1
        else pd.Series(country).map(COUNTRY_CC).to_numpy(dtype=object)
    )

    # gender: couples are mostly mixed
    gender = np.where(rng.random(n) < 0.66, "F", "M").astype(object)
    partner = rank == 1
    prev_gender = np.roll(gender, 1)
    flip = partner & (rng.random(n) < 0.85)
    gender[flip] = np.where(prev_gender[flip] == "F", "M", "F")

    # names by country pool
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    fr_pool_f, fr_pool_m, fr_last = _clean(N.FR_FEMALE), _clean(N.FR_MALE), _clean(N.FR_LAST)
    for ctry in np.unique(country):
        m = country == ctry
        pf, pm, pl = (
            (fr_pool_f, fr_pool_m, fr_last)
            if ctry not in COUNTRY_POOLS
            else tuple(_clean(p) for p in COUNTRY_POOLS[ctry])
        )
        fm = m & (gender == "F")
        mm = m & (gender == "M")
        first[fm] = zipf_choice(rng, pf, int(fm.sum()))
        first[mm] = zipf_choice(rng, pm, int(mm.sum()))
        last[m] = zipf_choice(rng, pl, int(m.sum()), s=0.6)
    # double-barrelled French names (Martin-Dubois) widen the name space
    barrel = np.flatnonzero((country == "FR") & (rng.random(n) < 0.08))
    simple = np.array(
        [x for x in fr_last if " " not in x and "-" not in x and "'" not in x], dtype=object
    )
    second = zipf_choice(rng, simple, barrel.size, s=0.6)
    last[barrel] = (
        pd.Series(last[barrel]).str.cat(pd.Series(second), sep="-").to_numpy(dtype=object)
    )
    head_last = last[np.searchsorted(household, household)]
    share_last = (rank > 0) & (rng.random(n) < 0.65)
    last[share_last] = head_last[share_last]

    # birth dates: adults 23-78, children of the household 18-30
    end_day = end_s // DAY
    age_years = np.where(rank >= 2, rng.uniform(18, 30, n), np.clip(rng.normal(46, 13, n), 22, 82))
    birth_day = (end_day - age_years * 365.25).astype(np.int64)
    birth_date = birth_day.astype("datetime64[D]")

    # phones: unique mobiles, household landlines for some FR households
    first_digit = (
        pd.Series(country)
        .map({"FR": 6, "MC": 6, "BE": 4, "CH": 7, "ES": 6, "DE": 1, "IT": 3, "GB": 7})
        .to_numpy()
    )
    mobile_num = unique_numbers(rng, n, 0, 100_000_000)
    fr_like = (country == "FR") | (country == "MC")
    seven = fr_like & (rng.random(n) < 0.3)
    first_digit = np.where(seven, 7, first_digit)
    mobile = (
        pd.Series(first_digit).astype(str) + pd.Series(mobile_num).astype(str).str.zfill(8)
    ).to_numpy(dtype=object)
    hh_landline = rng.random(n_hh) < 0.35
    land_num = unique_numbers(rng, n_hh, 0, 100_000_000)
    hh_area = area[hh_city]
    land = (
        pd.Series(hh_area).str.slice(1, 2) + pd.Series(land_num).astype(str).str.zfill(8)
    ).to_numpy(dtype=object)
    landline = land[household]
    has_land = hh_landline[household] & (hh_size >= 2) & (area[city_idx] != "")
    landline[~has_land] = None

    # planted homonyms: 0.6 % of persons take the common name of another person elsewhere
    hom = np.flatnonzero(rng.random(n) < 0.006)
    partner_idx = rng.integers(0, n, hom.size)
    ok = (
        (city_idx[partner_idx] != city_idx[hom])
        & (gender[partner_idx] == gender[hom])
        & (partner_idx != hom)
    )
    hom, partner_idx = hom[ok], partner_idx[ok]
    first[hom] = first[partner_idx]
    last[hom] = last[partner_idx]
    planted_homonym = np.zeros(n, dtype=bool)
    planted_homonym[hom] = True
    planted_homonym[partner_idx] = True

    # e-mails
    f_ascii = pd.Series(fold(first))
    l_ascii = pd.Series(fold(last))
    yy = (
        pd.Series((birth_date.astype("datetime64[Y]").astype(int) + 1970) % 100)
        .astype(str)
        .str.zfill(2)
    )
    digits = pd.Series(rng.integers(1, 999, n)).astype(str)
    pattern = rng.choice(8, size=n, p=[0.38, 0.10, 0.10, 0.12, 0.05, 0.08, 0.07, 0.10])
    candidates = [
        f_ascii + "." + l_ascii,
        f_ascii + l_ascii,
        f_ascii.str.slice(0, 1) + "." + l_ascii,
        f_ascii + "." + l_ascii + yy,
        f_ascii + "_" + l_ascii,
        l_ascii + "." + f_ascii,
        f_ascii + l_ascii.str.slice(0, 1) + digits,
        f_ascii + "." + l_ascii + digits,
    ]
    local = candidates[0].copy()
    for k in range(1, 8):
        local[pattern == k] = candidates[k][pattern == k]
    dom_w = np.array(N.PERSONAL_DOMAIN_WEIGHTS, dtype=float)
    domain = pd.Series(
        np.array(N.PERSONAL_DOMAINS, dtype=object)[
            rng.choice(len(N.PERSONAL_DOMAINS), n, p=dom_w / dom_w.sum())
        ]
    )
    foreign = ~fr_like
    local_dom = pd.Series(country).map(FOREIGN_DOMAINS)
    use_local = foreign & (rng.random(n) < 0.4)
    domain[use_local] = local_dom[use_local]
    domain[foreign & ~use_local] = pd.Series(
        rng.choice(["gmail.com", "outlook.com", "icloud.com"], n)
    )[foreign & ~use_local]
    corporate = rng.random(n) < 0.07
    corp_dom = pd.Series(
        np.array(N.CORPORATE_DOMAINS, dtype=object)[rng.integers(0, len(N.CORPORATE_DOMAINS), n)]
    )
    domain[corporate] = corp_dom[corporate]
    local[corporate] = (f_ascii + "." + l_ascii)[corporate]
    alt_dom = pd.Series(
        np.array(N.PERSONAL_DOMAINS, dtype=object)[
            (
                rng.integers(1, len(N.PERSONAL_DOMAINS), n)
                + pd.Series(domain)
                .map({d: i for i, d in enumerate(N.PERSONAL_DOMAINS)})
                .fillna(0)
                .astype(int)
                .to_numpy()
            )
            % len(N.PERSONAL_DOMAINS)
        ]
    )
    alt_local = f_ascii + l_ascii + pd.Series(rng.integers(10, 99, n)).astype(str)
    both = unique_mailboxes(pd.concat([local, alt_local]), pd.concat([domain, alt_dom]))
    email, alt_email = both[:n], both[n:]

    # behaviour profile
    profile = np.array(PROFILES, dtype=object)[rng.choice(5, size=n, p=PROFILE_WEIGHTS)]
    channel = np.array(CHANNELS, dtype=object)[rng.choice(3, size=n, p=[0.42, 0.43, 0.15])]
    u = rng.random(n)
    first_seen = np.select(
        [profile == "loyal", profile == "lapsing", profile == "churned", profile == "new"],
        [0.55 * u, 0.50 * u, 0.55 * u, 0.60 + 0.37 * u],
        0.98 * u,
    )
    first_seen = start_s + (first_seen * width).astype(np.int64) + rng.integers(0, DAY, n)
    rate = np.exp(rng.normal(np.log(1.5), 0.6, n))  # orders per year while active
    rate = np.where(profile == "loyal", rate * 1.5, rate)
    never = np.full(n, -1, dtype=np.int64)
    churn_at = never.copy()
    m = profile == "churned"
    lo = first_seen[m] + int(0.12 * width)
    churn_at[m] = np.minimum(
        lo + (rng.random(m.sum()) * (start_s + 0.9 * width - lo).clip(DAY)), end_s - 60 * DAY
    ).astype(np.int64)
    stop_at = never.copy()  # loyal customers who quietly stop (label noise)
    m = (profile == "loyal") & (rng.random(n) < 0.10)
    stop_at[m] = start_s + ((0.60 + 0.35 * rng.random(m.sum())) * width).astype(np.int64)
    lapse_at = never.copy()
    m = profile == "lapsing"
    lapse_at[m] = np.maximum(
        first_seen[m] + 120 * DAY,
        start_s + ((0.45 + 0.35 * rng.random(m.sum())) * width).astype(np.int64),
    )
    comeback_at = never.copy()  # lapsing customers who come back (label noise)
    m = (profile == "lapsing") & (rng.random(n) < 0.15)
    comeback_at[m] = start_s + ((0.85 + 0.12 * rng.random(m.sum())) * width).astype(np.int64)

    # life events: moves and married names
    moved = (rng.random(n) < 0.08) & (first_seen < end_s - 200 * DAY)
    moved_at = never.copy()
    moved_at[moved] = first_seen[moved] + (
        rng.random(moved.sum()) * (end_s - first_seen[moved] - 30 * DAY)
    ).astype(np.int64)
    old_city_idx = rng.choice(len(N.CITIES), size=n, p=city_w / city_w.sum())
    old_street, old_postcode = addresses(n, old_city_idx)
    age_now = (end_day - birth_day) / 365.25
    married = (
        (gender == "F")
        & (age_now > 24)
        & (age_now < 50)
        & (rng.random(n) < 0.05)
        & (first_seen < end_s - 200 * DAY)
    )
    married_at = never.copy()
    married_at[married] = first_seen[married] + (
        rng.random(married.sum()) * (end_s - first_seen[married] - 30 * DAY)
    ).astype(np.int64)
    maiden = np.full(n, None, dtype=object)
    maiden[married] = zipf_choice(rng, fr_last, int(married.sum()), s=0.6)

    fav_store = rng.integers(0, len(N.STORES), n)
    local_store = {c: [i for i, s in enumerate(N.STORES) if s[5] == c] for c in cities}
    for c_i, c in enumerate(cities):  # the favourite store is the local one when there is one
        if local_store[c]:
            m = (city_idx == c_i) & (rng.random(n) < 0.8)
            fav_store[m] = np.array(local_store[c])[rng.integers(0, len(local_store[c]), m.sum())]
    fav_cat = rng.choice(len(N.CATEGORIES), n, p=[0.26, 0.18, 0.22, 0.10, 0.16, 0.08])

    return pd.DataFrame(
        {
            "person_id": pd.Series(np.arange(1, n + 1)).map("P{:07d}".format),
            "first_name": first,
            "last_name": last,
            "maiden_name": maiden,
            "gender": gender,
            "birth_date": birth_date,
            "street": hh_street[household],
            "postcode": hh_postcode[household],
            "city": cities[city_idx],
            "country": country,
            "old_street": np.where(moved, old_street, None),
            "old_postcode": np.where(moved, old_postcode, None),
            "old_city": np.where(moved, cities[old_city_idx], None),
            "old_country": np.where(moved, countries[old_city_idx], None),
            "moved_at": moved_at,
            "married_at": married_at,
            "phone_cc": cc,
            "mobile": mobile,
            "landline": landline,
            "email": email,
            "alt_email": alt_email,
            "household_id": household,
            "household_size": hh_size,
            "profile": profile,
            "channel_preference": channel,
            "favourite_store": fav_store,
            "favourite_category": fav_cat,
            "first_seen": first_seen,
            "order_rate": rate,
            "churn_at": churn_at,
            "stop_at": stop_at,
            "lapse_at": lapse_at,
            "comeback_at": comeback_at,
            "planted_homonym": planted_homonym,
        }
    )


def _vector_postcodes(cidx: np.ndarray, pick: np.ndarray) -> np.ndarray:
    out = np.empty(cidx.size, dtype=object)
    for c, city in enumerate(N.CITIES):
        m = cidx == c
        codes = np.array(city[2], dtype=object)
        out[m] = codes[(pick[m] * len(codes)).astype(int)]
    return out
