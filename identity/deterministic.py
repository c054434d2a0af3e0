"""Stage 2 of identity resolution: links from shared identifier values.

Records sharing a value of a rule's ``id_type`` are linked, after blocklists (placeholders)
and frequency caps (a value carried by too many persons by name); guarded rules (e-mail,
phone) link only records whose first names are compatible.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdp import normalize as nz
from identity import compare as cmp
from identity.config import IdentityConfig
from identity.pairs import chain_within_groups, components, finding, pairs_within_groups


def _identifier_table(
    norm: pd.DataFrame, identifiers: pd.DataFrame | None, report: list[dict]
) -> pd.DataFrame:
    """Long table ``rec, id_type, value, alt`` of every identifier value of every record."""
    parts = []
    for id_type, alt in (("email", "email_display"), ("phone", None)):
        s = norm[id_type]
        keep = s.notna()
        parts.append(
            pd.DataFrame(
                {
                    "rec": np.flatnonzero(keep.to_numpy()),
                    "id_type": id_type,
                    "value": s[keep].astype("str").array,
                    "alt": (norm[alt][keep] if alt else s[keep]).astype("str").array,
                }
            )
        )
    if identifiers is not None and len(identifiers):
        missing = {"record_id", "id_type", "id_value"} - set(identifiers.columns)
        if missing:
            raise ValueError(f"identifiers: missing column(s) {sorted(missing)}")
        ids = identifiers[["record_id", "id_type", "id_value"]].copy()
        ids["id_value"] = nz._as_text_series(ids["id_value"].astype(object)).str.replace(
            r"\.0+$", "", regex=True
        )
        ids["id_type"] = ids["id_type"].astype("str").str.strip()
        ids = ids.dropna(subset=["id_value", "id_type"])
        # each identifier's record by an Arrow hash lookup (a pandas reindex on millions of
        # string ids took a sixth of the stage at 1.4M customers)
        rec = (
            pc.index_in(
                pa.array(ids["record_id"].astype("str")),
                value_set=pa.array(norm["record_id"].astype("str")),
            )
            .fill_null(-1)
            .to_numpy()
        )
        unknown = rec < 0
        if unknown.any():
            report.append(
                finding(
                    "unknown_record_id",
                    unknown.sum(),
                    "identifier rows whose record_id is not in records (ignored)",
                )
            )
        ids = ids[~unknown]
        parts.append(
            pd.DataFrame(
                {
                    "rec": rec[~unknown].astype(np.int64),
                    "id_type": ids["id_type"].to_numpy(),
                    "value": ids["id_value"].astype("str").array,
                    "alt": ids["id_value"].astype("str").array,
                }
            )
        )
    table = pd.concat(parts, ignore_index=True)
    return table.drop_duplicates(subset=["rec", "id_type", "value"], ignore_index=True)


def _normalised_blocklist_values(id_type: str, values: list[str], config: IdentityConfig) -> set:
    out = set(values)
    if id_type == "email":
        out |= {k for v in values if (k := nz.email_match_key(v, config.email_ignore_gmail_dots))}
    elif id_type == "phone":
        out |= {k for v in values if (k := nz.normalize_phone(v, config.default_region))}
    return out


def _apply_blocklists(table: pd.DataFrame, config: IdentityConfig, report: list[dict]):
    """Drop identifier rows whose value is blocklisted (regexes run once per distinct value)."""
    blocked = np.zeros(len(table), dtype=bool)
    types = table["id_type"].to_numpy()
    for key, bl in config.blocklist.items():
        scope = np.ones(len(table), bool) if key == "*" else types == key
        if not scope.any():
            continue
        sub = table[scope]
        values = pd.concat([sub["value"], sub["alt"]], ignore_index=True)
        codes, uniques = pd.factorize(values)
        uniq = pd.Series(uniques, dtype="str")
        if key == "*":
            hit_u = (
                uniq.str.lower()
                .isin([v.lower() for v in bl.values])
                .to_numpy(dtype=bool, copy=True)
            )
        else:
            vals = _normalised_blocklist_values(key, bl.values, config)
            hit_u = uniq.isin(list(vals)).to_numpy(dtype=bool, copy=True)
        for pattern in bl.patterns:
            with warnings.catch_warnings():  # "pattern has match groups": intended
                warnings.simplefilter("ignore", UserWarning)
                hit_u = hit_u | uniq.str.contains(pattern, regex=True).fillna(False).to_numpy(
                    dtype=bool
                )
        hit = hit_u[codes]
        m = len(sub)
        blocked[np.flatnonzero(scope)] |= hit[:m] | hit[m:]
    if blocked.any():
        counts = table[blocked].groupby(["id_type", "value"]).size().reset_index(name="count")
        for row in counts.itertuples(index=False):
            report.append(
                finding(
                    "blocklist",
                    row.count,
                    "value on the blocklist: never used to link",
                    id_type=row.id_type,
                    value=row.value,
                )
            )
    return table[~blocked]


def learned_name_variants(norm: pd.DataFrame, coded: dict[str, cmp.Coded], config) -> np.ndarray:
    """First-name pairs (:func:`compare.variant_keys`) that this file shows as one person's.

    Read from the e-mail addresses that records of one last name and two first names share:
    a pair sharing addresses in at least ``name_variants.min_persons`` families, and in at
    least ``min_share`` of the e-mail-sharing families of its rarer name (a diminutive or a
    recurring typo keeps to its name; a spouse's name is spread over many). See
    ``NameVariants`` in ``identity/config.py``.
    """
    nv = config.name_variants
    names = coded["first_name"]
    if not nv.enabled or "email" not in norm.columns:
        return np.empty(0, np.int64)
    frame = pd.DataFrame(
        {
            "e": pd.factorize(norm["email"])[0],
            "f": names.codes["first_name"],
            "l": names.codes["last_name"],
        }
    )
    frame = frame[(frame >= 0).all(axis=1)].drop_duplicates()
    per_value = frame.groupby("e")["f"].transform("size")
    frame = frame[per_value <= nv.max_names_per_value]
    both = frame.merge(frame, on=["e", "l"])
    both = both[both["f_x"] < both["f_y"]].drop_duplicates(["f_x", "f_y", "l"])
    if both.empty:
        return np.empty(0, np.int64)
    together = both.groupby(["f_x", "f_y"]).size()
    families = pd.concat([both["f_x"], both["f_y"]]).value_counts()
    fx = together.index.get_level_values(0)
    fy = together.index.get_level_values(1)
    rarer = np.minimum(families.reindex(fx).to_numpy(), families.reindex(fy).to_numpy())
    ok = (together.to_numpy() >= nv.min_persons) & (together.to_numpy() >= nv.min_share * rarer)
    return np.unique(cmp.variant_keys(np.asarray(fx)[ok], np.asarray(fy)[ok], len(names.uniques)))


def _distinct_persons_by_name(
    codes: np.ndarray,
    recs: np.ndarray,
    names: np.ndarray,
    coded: dict[str, cmp.Coded],
    config: IdentityConfig,
    cap: int,
    learned: np.ndarray | None = None,
) -> pd.Series:
    """Values whose records carry more than ``cap`` person-like name clusters: code -> count.

    Spellings of one name are one person: two name keys belong to one cluster when their
    first names are compatible (the guard of guarded rules) and their last names are close
    (Jaro-Winkler >= ``name_compatibility_threshold``, crossed orientation allowed), so one
    guest typed as Hadrien Moreau, Hadrieen Mooreau and Hardien Mreau counts once. Values
    with more than ten times ``cap`` distinct spellings are counted without clustering.
    """
    frame = pd.DataFrame({"code": codes, "rec": recs, "nk": names[recs]}).dropna()
    frame = frame.drop_duplicates(["code", "nk"])
    distinct = frame.groupby("code").size()
    suspects = distinct[(distinct > cap) & (distinct <= 10 * cap)].index
    over = distinct[distinct > 10 * cap]
    if len(suspects):
        sub = frame[frame["code"].isin(suspects)].sort_values("code", kind="stable")
        node = np.arange(len(sub))
        ia, ib = pairs_within_groups(node, sub["code"].to_numpy())
        rec = sub["rec"].to_numpy()
        nm = coded["first_name"]
        first, last = nm.codes["first_name"], nm.codes["last_name"]
        thr = config.name_compatibility_threshold
        crossed = config.probabilistic.compare_swapped_names
        same = cmp.first_names_compatible(
            first, last, nm.space, rec[ia], rec[ib], thr, crossed, learned
        )
        sel = np.flatnonzero(same)
        if len(sel):
            pv = cmp.PairValues(last[rec[ia[sel]]], last[rec[ib[sel]]], nm.space)
            close = (pv.similarity("jaro_winkler") >= thr)[pv.inverse]
            if crossed:
                px = cmp.PairValues(first[rec[ia[sel]]], last[rec[ib[sel]]], nm.space)
                close |= (px.similarity("jaro_winkler") >= thr)[px.inverse]
            same[sel] = close
        labels = components(len(sub), ia[same], ib[same])
        clusters = pd.Series(labels).groupby(sub["code"].to_numpy()).nunique()
        over = pd.concat([over, clusters[clusters > cap]])
    return over


def _same_family_on_landline(
    norm: pd.DataFrame, names: cmp.Coded, a: np.ndarray, b: np.ndarray, config: IdentityConfig
) -> np.ndarray:
    """A landline is a household's: two records sharing one are linked only when their last
    names are close too (or one is missing). Flatmates, a mother and her married daughter,
    two women named Sylvie in one house answer the same fixed number; a mobile is personal."""
    ok = np.ones(len(a), dtype=bool)
    landline = ~nz.is_mobile_series(norm["phone"].iloc[a].reset_index(drop=True))
    sel = np.flatnonzero(landline)
    if len(sel) == 0:
        return ok
    last = names.codes["last_name"]
    la, lb = last[a[sel]], last[b[sel]]
    close = (la < 0) | (lb < 0) | (la == lb)
    todo = np.flatnonzero(~close)
    if len(todo):
        pv = cmp.PairValues(la[todo], lb[todo], names.space)
        close[todo] = (pv.similarity("jaro_winkler") >= config.name_compatibility_threshold)[
            pv.inverse
        ]
        if config.probabilistic.compare_swapped_names:
            first = names.codes["first_name"]
            crossed = (first[a[sel]][todo] == lb[todo]) | (la[todo] == first[b[sel]][todo])
            close[todo] |= crossed
    ok[sel] = close
    return ok


def deterministic_edges(
    norm: pd.DataFrame,
    identifiers: pd.DataFrame | None,
    config: IdentityConfig,
    report: list[dict],
    coded: dict[str, cmp.Coded] | None = None,
    groups: np.ndarray | None = None,
) -> pd.DataFrame:
    """Edges ``a, b, rule`` from shared identifier values (blocklists, caps and guards applied).

    With ``groups`` (link mode), records of one group are never linked to each other.
    """
    coded = coded or cmp.encode_fields(norm)
    table = _identifier_table(norm, identifiers, report)
    rules = {r.id_type: r for r in config.deterministic}
    unused = table.loc[~table["id_type"].isin(list(rules)), "id_type"].value_counts()
    for id_type, count in unused.items():
        report.append(
            finding(
                "unused_id_type",
                count,
                "no deterministic rule uses this id_type (ignored)",
                id_type=id_type,
            )
        )
    table = table[table["id_type"].isin(list(rules))]
    table = _apply_blocklists(table, config, report)
    names = norm["name_key"].to_numpy()
    learned = learned_name_variants(norm, coded, config)
    edge_parts = []
    hard_cap = max(2000, config.max_cluster_size * 10)
    for id_type, rule in rules.items():
        t = table[table["id_type"].eq(id_type)]
        if t.empty:
            continue
        codes, uniques = pd.factorize(t["value"])
        t = t.assign(code=codes)
        size = np.bincount(codes)
        drop = np.zeros(len(uniques), bool)
        if rule.max_distinct_names is not None:
            over = _distinct_persons_by_name(
                codes, t["rec"].to_numpy(), names, coded, config, rule.max_distinct_names, learned
            )
            drop[over.index.to_numpy()] = True
            for code, nnames in over.items():
                report.append(
                    finding(
                        "frequency_cap",
                        size[code],
                        f"{int(nnames)} distinct persons by name > max_distinct_names "
                        f"{rule.max_distinct_names}: value ignored",
                        rule=rule.name,
                        id_type=id_type,
                        value=str(uniques[code]),
                    )
                )
        if rule.guard == "names":
            big = (size > hard_cap) & ~drop
            for code in np.flatnonzero(big):
                report.append(
                    finding(
                        "frequency_cap",
                        size[code],
                        f"more than {hard_cap} records share this value: ignored",
                        rule=rule.name,
                        id_type=id_type,
                        value=str(uniques[code]),
                    )
                )
            drop |= big
        t = t[~drop[t["code"].to_numpy()]]
        t = t[(size[t["code"].to_numpy()] > 1)].sort_values(["code", "rec"], kind="stable")
        order = t["rec"].to_numpy()
        code_sorted = t["code"].to_numpy()
        if rule.guard == "names" or groups is not None:
            a, b = pairs_within_groups(order, code_sorted)
            if groups is not None:
                other = groups[a] != groups[b]
                a, b = a[other], b[other]
        else:
            a, b = chain_within_groups(order, code_sorted)
        if rule.guard == "names":
            coded_names = coded["first_name"]
            keep = cmp.first_names_compatible(
                coded_names.codes["first_name"],
                coded_names.codes["last_name"],
                coded_names.space,
                a,
                b,
                config.name_compatibility_threshold,
                config.probabilistic.compare_swapped_names,
                learned,
            )
            if id_type == "phone":
                keep &= _same_family_on_landline(norm, coded_names, a, b, config)
            a, b = a[keep], b[keep]
        edge_parts.append(pd.DataFrame({"a": a, "b": b, "rule": rule.name, "score": np.nan}))
    if not edge_parts:
        return pd.DataFrame({"a": [], "b": [], "rule": [], "score": []})
    edges = pd.concat(edge_parts, ignore_index=True)
    lo = np.minimum(edges["a"], edges["b"])
    hi = np.maximum(edges["a"], edges["b"])
    edges["a"], edges["b"] = lo, hi
    return edges[edges["a"] != edges["b"]].drop_duplicates(["a", "b", "rule"], ignore_index=True)
