"""The identity-resolution engine: records in, a stable record -> person graph out.

Stages (all set-based: pandas/numpy joins and sorts, rapidfuzz vectorised pairwise scores,
scipy connected components; no Python loop over records or pairs):

1. ``prepare``: normalise every attribute into match keys (cdp.normalize, once per distinct
   value).
2. deterministic edges (``deterministic.py``): records sharing an identifier value
   (identifiers table, e-mail match key, E.164 phone), after blocklists and frequency caps;
   guarded rules keep only pairs with compatible first names.
3. probabilistic edges: candidate pairs from blocking keys (``blocking.py``), a Fellegi-Sunter
   model estimated on them (``fellegi_sunter.py``), a match-probability threshold, guards that
   hold pairs for review.
4. connected components; components larger than ``max_cluster_size`` are split by dropping
   their weakest rules.
5. stable person ids against the previous graph (merges and splits recorded).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cdp import normalize as nz
from identity import compare as cmp
from identity import fellegi_sunter as fs
from identity.blocking import blocking_fields, candidate_pairs
from identity.config import IdentityConfig
from identity.deterministic import deterministic_edges
from identity.pairs import components, finding

RECORD_COLUMNS = (
    "record_id",
    "source_system",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "birth_date",
    "street",
    "postcode",
    "city",
    "country",
    "updated_at",
)
REPORT_COLUMNS = ["kind", "rule", "id_type", "value", "count", "detail"]


@dataclass
class ResolutionResult:
    """What :func:`resolve` returns.

    ``graph``: ``record_id, person_id, match_rule`` (one row per input record).
    ``edges``: ``record_id_a, record_id_b, rule, score`` (the links that formed the persons).
    ``merges``: ``merged_person_id, into_person_id, merged_at`` (previous persons absorbed).
    ``cluster_report``: ``kind, rule, id_type, value, count, detail`` (values dropped by
    blocklists or frequency caps, oversized blocks and clusters, input problems).
    ``possible_matches``: ``record_id_a, record_id_b, score, reason`` (pairs for review).
    ``stats``: counts and seconds per stage.
    """

    graph: pd.DataFrame
    edges: pd.DataFrame
    merges: pd.DataFrame
    cluster_report: pd.DataFrame
    possible_matches: pd.DataFrame
    stats: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _person_hash(record_ids: pd.Series, salt: str = "") -> pd.Series:
    return record_ids.map(lambda r: "p_" + hashlib.sha1(f"{r}{salt}".encode()).hexdigest()[:16])


# ---------------------------------------------------------------------------------------------
# stage 1: normalisation
# ---------------------------------------------------------------------------------------------
def prepare(records: pd.DataFrame, config: IdentityConfig) -> pd.DataFrame:
    """Normalised match keys, one row per record, positional index 0..n-1.

    Columns: ``record_id, first_name, last_name, swappable, birth_date, street, postcode, city,
    email, email_display, phone, name_key``. Missing input columns are treated as absent values.
    """
    n = len(records)
    idx = pd.RangeIndex(n)

    def col(name: str) -> pd.Series:
        if name in records.columns:
            return pd.Series(records[name].to_numpy(), index=idx)
        return pd.Series([None] * n, index=idx, dtype=object)

    first_raw, last_raw = col("first_name"), col("last_name")
    full = col("full_name")
    no_names = first_raw.isna() & last_raw.isna() & full.notna()
    swappable = pd.Series(False, index=idx)
    if no_names.any():
        split = nz._map_unique(nz._as_text_series(full[no_names]), nz.split_full_name)
        first_raw = first_raw.astype(object)
        last_raw = last_raw.astype(object)
        first_raw[no_names] = split.map(lambda t: t[0] if isinstance(t, tuple) else None)
        last_raw[no_names] = split.map(lambda t: t[1] if isinstance(t, tuple) else None)
        swappable = no_names
    country = col("country")
    out = pd.DataFrame(
        {
            "record_id": col("record_id").astype("str"),
            "first_name": nz.first_name_key_series(first_raw),
            "last_name": nz.name_key_series(last_raw),
            "swappable": swappable.to_numpy(),
            "birth_date": nz.parse_birth_date_series(col("birth_date")),
            "street": nz.normalize_street_series(col("street")),
            "postcode": nz.normalize_postcode_series(col("postcode"), country),
            "city": nz.normalize_city_series(col("city")),
            "email": nz.email_match_key_series(col("email"), config.email_ignore_gmail_dots),
            "email_display": nz.normalize_email_series(col("email")),
            "phone": nz.normalize_phone_series(col("phone"), country, config.default_region),
            "personal_id": nz.normalize_identifier_series(col("personal_id")),
        },
        index=idx,
    )
    out = out.join(blocking_fields(out))
    has_name = out["first_name"].notna() & out["last_name"].notna()
    # order-independent (first and last are swapped in some sources) for frequency caps
    f = out["first_name"].astype("str")
    la = out["last_name"].astype("str")
    lo = f.where(f <= la, la)
    hi = la.where(f <= la, f)
    out["name_key"] = (lo + "|" + hi).where(has_name)
    out["names_any_order"] = out["name_key"]
    return out


# ---------------------------------------------------------------------------------------------
# stage 2: deterministic edges
# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------
# stage 3: probabilistic edges
# ---------------------------------------------------------------------------------------------
def _probabilistic(
    norm: pd.DataFrame,
    coded: dict[str, cmp.Coded],
    det: pd.DataFrame,
    config: IdentityConfig,
    report: list[dict],
    groups: np.ndarray | None,
) -> tuple[fs.FittedModel, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit the model on the candidate pairs, then score those not already linked.

    The EM sees every candidate pair, those the deterministic rules joined included: they are
    mostly true matches and teach m what a match looks like in this data.
    """
    n = len(norm)
    prob = config.probabilistic
    pairs = candidate_pairs(norm, config, report, groups)
    det_labels = components(n, det["a"].to_numpy(), det["b"].to_numpy())
    pa, pb = pairs // n, pairs % n
    model = fs.starting_model(config)
    g = fs.levels(coded, pa, pb, config, model)
    joined = det_labels[pa] == det_labels[pb]
    if prob.estimation.enabled and len(pa):
        est = prob.estimation
        ra, rb = fs.random_pairs(n, est.u_sample_pairs, est.seed)
        if groups is not None:
            keep = groups[ra] != groups[rb]
            ra, rb = ra[keep], rb[keep]
        rg = fs.levels(coded, ra, rb, config, model)
        model = fs.fit(g, rg, config, known=joined)
    fresh = ~joined
    pa, pb, g = pa[fresh], pb[fresh], g[fresh]
    tf_u = fs.term_frequency_u(coded, pa, g, config, model)
    _weight, probability, held = fs.score(g, model, config, tf_u)
    return model, pa, pb, probability, held


# ---------------------------------------------------------------------------------------------
# stage 4-5: clusters and stable ids
# ---------------------------------------------------------------------------------------------
def _atom_modes(labels: np.ndarray, values: pd.Series) -> np.ndarray:
    """Most frequent non-missing value (text, '' when none) of each component."""
    frame = pd.DataFrame({"atom": labels, "v": values.to_numpy()}).dropna()
    out = np.full(labels.max() + 1 if len(labels) else 0, "", dtype=object)
    if len(frame):
        mode = frame.value_counts(["atom", "v"]).reset_index().drop_duplicates("atom")
        out[mode["atom"].to_numpy()] = mode["v"].to_numpy()
    return out


def _conflicting(da: np.ndarray, db: np.ndarray, dates: bool) -> np.ndarray:
    """Both present and different (for dates: and not a typo of each other)."""
    both = (da != "") & (db != "") & (da != db)
    if not dates:
        return both
    out = np.zeros(len(da), dtype=bool)
    sel = np.flatnonzero(both)
    if len(sel):
        out[sel] = ~cmp.date_typo(da[sel].astype(str), db[sel].astype(str))
    return out


def _drop_conflicting_links(
    n: int, edges: pd.DataFrame, norm: pd.DataFrame, config: IdentityConfig, report: list
) -> pd.DataFrame:
    """Refuse links of the checked rules that would join records that cannot be one person.

    Rules are applied in priority order. The rules not checked (exact identifiers) form the
    starting groups; each checked rule's edges are then kept only between groups whose birth
    dates / mobile numbers (most frequent in each group) do not conflict, and, when a rule's
    edges chain conflicting groups through a third one, that rule's edges inside the resulting
    group are dropped as well. Father and son with the same name at the same address, or two
    homonyms sharing an e-mail address, stay apart when their birth dates or mobiles are known.
    """
    conf = config.conflicts
    attributes: list[tuple[str, pd.Series, bool]] = []
    if conf.birth_date:
        attributes.append(("birth_date", norm["birth_date"], True))
    if conf.mobile_phone:
        phone = norm["phone"]
        attributes.append(("mobile_phone", phone.where(nz.is_mobile_series(phone), None), False))
    if not attributes:
        return edges
    priority = config.rule_priority()
    prio = edges["rule"].map(priority).to_numpy()
    is_checked = edges["rule"].isin(list(conf.rules)).to_numpy()
    keep = ~is_checked
    a_all, b_all = edges["a"].to_numpy(), edges["b"].to_numpy()
    refused: dict[str, int] = {}
    for level in sorted(set(prio[is_checked].tolist())):
        labels = components(n, a_all[keep], b_all[keep])
        batch = np.flatnonzero(is_checked & (prio == level))
        ok = np.ones(len(batch), dtype=bool)
        modes = {}
        for name, values, dates in attributes:
            modes[name] = _atom_modes(labels, values)
            m = modes[name]
            bad = _conflicting(m[labels[a_all[batch]]], m[labels[b_all[batch]]], dates)
            refused[name] = refused.get(name, 0) + int((bad & ok).sum())
            ok &= ~bad
        # chains: a group formed by this batch must not hold conflicting values
        trial = keep.copy()
        trial[batch[ok]] = True
        new_labels = components(n, a_all[trial], b_all[trial])
        for name, _values, dates in attributes:
            atoms = pd.DataFrame({"group": new_labels, "v": modes[name][labels]})
            atoms = atoms[atoms["v"] != ""].drop_duplicates()
            span = atoms.groupby("group")["v"].agg(["min", "max"])
            span = span[span["min"] != span["max"]]
            if len(span):
                bad_groups = span.index[
                    _conflicting(span["min"].to_numpy(), span["max"].to_numpy(), dates)
                ]
                chained = np.isin(new_labels[a_all[batch]], bad_groups) & ok
                refused[name] = refused.get(name, 0) + int(chained.sum())
                ok &= ~chained
        keep[batch[ok]] = True
    for name, count in refused.items():
        if count:
            report.append(
                finding(
                    "conflict",
                    count,
                    f"links refused: they would join records with different {name}s",
                    id_type=name,
                )
            )
    return edges[keep]


def _cluster(
    n: int, edges: pd.DataFrame, config: IdentityConfig, record_ids: pd.Series, report: list
) -> tuple[np.ndarray, pd.DataFrame]:
    """Component labels; oversized components are split by dropping their weakest rules."""
    priority = config.rule_priority()
    prio = edges["rule"].map(priority).to_numpy()
    a, b = edges["a"].to_numpy(), edges["b"].to_numpy()
    labels = components(n, a, b)
    sizes = np.bincount(labels)
    oversized = np.flatnonzero(sizes > config.max_cluster_size)
    if len(oversized) == 0:
        return labels, edges
    active = np.ones(len(edges), dtype=bool)
    in_over = np.isin(labels, oversized)
    for label in oversized:
        members = np.flatnonzero(labels == label)
        report.append(
            finding(
                "max_cluster_size",
                sizes[label],
                f"cluster of {sizes[label]} records > max_cluster_size "
                f"{config.max_cluster_size}: split by dropping its weakest rules",
                value=str(record_ids.iloc[members].min()),
            )
        )
    # drop the weakest rule inside the oversized clusters until they fit (or one rule is left)
    for cut in sorted(set(prio.tolist()), reverse=True):
        if cut == min(prio):
            break
        edge_in_over = in_over[a]
        active &= ~(edge_in_over & (prio >= cut))
        labels = components(n, a[active], b[active])
        sizes = np.bincount(labels)
        still = sizes[labels] > config.max_cluster_size
        if not (still & in_over).any():
            break
        in_over = in_over & still
    return labels, edges[active]


def _assign_person_ids(
    record_ids: pd.Series, labels: np.ndarray, previous: pd.DataFrame | None, now: dt.datetime
) -> tuple[np.ndarray, pd.DataFrame]:
    """A stable person id per cluster, and the merges of previous persons."""
    frame = pd.DataFrame({"record_id": record_ids.to_numpy(), "cluster": labels})
    min_rec = frame.groupby("cluster")["record_id"].min()
    new_ids = _person_hash(min_rec)
    merges = pd.DataFrame(
        {
            "merged_person_id": pd.Series([], dtype="str"),
            "into_person_id": pd.Series([], dtype="str"),
            "merged_at": pd.Series([], dtype="datetime64[us, UTC]"),
        }
    )
    chosen = pd.Series(index=min_rec.index, dtype=object)
    reserved: set[str] = set()
    if previous is not None and len(previous):
        prev = previous[["record_id", "person_id"]].dropna()
        prev = prev.assign(record_id=prev["record_id"].astype("str"))
        prev = prev.drop_duplicates("record_id")
        reserved = set(prev["person_id"].astype("str"))
        joined = frame.merge(prev, on="record_id", how="inner")
        if len(joined):
            counts = joined.groupby(["person_id", "cluster"]).size().reset_index(name="n")
            counts = counts.merge(min_rec.rename("min_rec").reset_index(), on="cluster")
            # home cluster of each previous person: where most of its records went
            counts = counts.sort_values(
                ["person_id", "n", "min_rec"], ascending=[True, False, True]
            )
            home = counts.drop_duplicates("person_id")
            # each cluster keeps the previous person with the most records (tie: smaller id)
            home = home.sort_values(["cluster", "n", "person_id"], ascending=[True, False, True])
            winners = home.drop_duplicates("cluster")
            chosen.loc[winners["cluster"].to_numpy()] = winners["person_id"].to_numpy()
            losers = home[~home.index.isin(winners.index)]
            if len(losers):
                into = winners.set_index("cluster")["person_id"]
                merges = pd.DataFrame(
                    {
                        "merged_person_id": losers["person_id"].astype("str").to_numpy(),
                        "into_person_id": into.loc[losers["cluster"]].astype("str").to_numpy(),
                        "merged_at": pd.Timestamp(now),
                    }
                )
    need = chosen.isna()
    ids = new_ids.where(need, chosen)
    # a new id must not collide with a previous id (e.g. the smaller part of a split whose
    # smallest record gave the old id its name): salt the hash until it is unused
    taken = set(chosen.dropna().astype(str)) | reserved
    salt = 0
    clash = need & ids.isin(list(taken))
    while clash.any():
        salt += 1
        ids[clash] = _person_hash(min_rec[clash], f"#{salt}")
        clash = need & ids.isin(list(taken))
    return ids.reindex(labels).to_numpy(), merges


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
def _empty_result(report: list[dict], seconds: float) -> ResolutionResult:
    text = pd.Series([], dtype="str")
    return ResolutionResult(
        graph=pd.DataFrame({"record_id": text, "person_id": text, "match_rule": text}),
        edges=pd.DataFrame(
            {
                "record_id_a": text,
                "record_id_b": text,
                "rule": text,
                "score": pd.Series([], dtype=float),
            }
        ),
        merges=pd.DataFrame(
            {
                "merged_person_id": text,
                "into_person_id": text,
                "merged_at": pd.Series([], dtype="datetime64[us, UTC]"),
            }
        ),
        cluster_report=pd.DataFrame(report, columns=REPORT_COLUMNS),
        possible_matches=pd.DataFrame(
            {
                "record_id_a": text,
                "record_id_b": text,
                "score": pd.Series([], dtype=float),
                "reason": text,
            }
        ),
        stats={
            "records": 0,
            "persons": 0,
            "largest_person": 0,
            "edges_per_rule": {},
            "records_per_rule": {},
            "candidate_pairs": 0,
            "possible_matches": 0,
            "merges": 0,
            "seconds": {"total": round(seconds, 3)},
        },
    )


def resolve(
    records: pd.DataFrame,
    identifiers: pd.DataFrame | None,
    config: IdentityConfig,
    previous: pd.DataFrame | None = None,
    link_column: str | None = None,
) -> ResolutionResult:
    """Group ``records`` into persons. See the module docstring and docs/identity.md.

    ``link_column``: records with the same value in this column (a source file) are never
    linked to each other directly: the sources are linked, not deduplicated inside each.
    """
    timings: dict[str, float] = {}
    report: list[dict] = []
    t0 = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    if "record_id" not in records.columns:
        raise ValueError("records: missing column 'record_id'")
    rid = records["record_id"]
    bad = rid.isna()
    if bad.any():
        report.append(
            finding("missing_record_id", bad.sum(), "records without record_id are not resolved")
        )
        records = records[~bad]
    dup = records["record_id"].astype("str").duplicated()
    if dup.any():
        report.append(
            finding(
                "duplicate_record_id",
                dup.sum(),
                "repeated record_id: the first row is used",
                value=str(records["record_id"][dup].iloc[0]),
            )
        )
        records = records[~dup.to_numpy()]
    # the same records give the same persons whatever order they come in (a SQL read has
    # none): the random pairs of the estimation are drawn over record_id order
    order = np.argsort(records["record_id"].astype("str").to_numpy(), kind="stable")
    records = records.iloc[order].reset_index(drop=True)
    n = len(records)
    if n == 0:
        return _empty_result(report, time.perf_counter() - t0)

    norm = prepare(records, config)
    coded = cmp.encode_fields(norm)
    groups = None
    if link_column is not None:
        if link_column not in records.columns:
            raise ValueError(f"records: missing link column {link_column!r}")
        groups = pd.factorize(records[link_column].astype("str"))[0]
    timings["normalise"] = time.perf_counter() - t0

    t = time.perf_counter()
    det = deterministic_edges(norm, identifiers, config, report, coded, groups)
    # placeholder and shared values say nothing about a person: the comparisons ignore them
    for field_name in ("email", "phone"):
        dropped = [
            r["value"]
            for r in report
            if r["kind"] in ("blocklist", "frequency_cap") and r["id_type"] == field_name
        ]
        if dropped:
            norm[field_name] = norm[field_name].where(~norm[field_name].isin(dropped), None)
            coded[field_name] = cmp.encode(norm, [field_name])
    timings["deterministic"] = time.perf_counter() - t

    t = time.perf_counter()
    prob_edges = pd.DataFrame({"a": [], "b": [], "rule": [], "score": []})
    possible = pd.DataFrame({"a": [], "b": [], "score": [], "reason": []})
    model = fs.starting_model(config)
    n_candidates = 0
    if config.probabilistic.enabled and n > 1:
        model, pa, pb, probability, held = _probabilistic(norm, coded, det, config, report, groups)
        n_candidates = len(pa)
        prob = config.probabilistic
        match = (probability >= prob.match_probability) & (held == 0)
        prob_edges = pd.DataFrame({"a": pa[match], "b": pb[match], "rule": "probabilistic"})
        prob_edges["score"] = probability[match]
        # the review list: probable pairs that a rule held back, and pairs in the band, but not
        # pairs with too little evidence (a name and a town: homonyms by the thousand)
        band = ~match & (probability >= prob.review_probability) & (held != 2)
        reasons = np.array(["below_threshold", *fs.HELD[1:]], dtype=object)
        possible = pd.DataFrame(
            {
                "a": pa[band],
                "b": pb[band],
                "score": probability[band],
                "reason": reasons[held[band]],
            }
        )
    timings["probabilistic"] = time.perf_counter() - t

    t = time.perf_counter()
    edges = pd.concat([det, prob_edges], ignore_index=True)
    edges["a"] = edges["a"].astype(np.int64)
    edges["b"] = edges["b"].astype(np.int64)
    if config.conflicts.enabled:
        edges = _drop_conflicting_links(n, edges, norm, config, report)
    labels, edges = _cluster(n, edges, config, norm["record_id"], report)
    # how each record joined: its strongest incident edge
    priority = config.rule_priority()
    rule_names = np.array([*sorted(priority, key=priority.get), "singleton"], dtype=object)
    best = np.full(n, len(priority), dtype=np.int64)
    prio = edges["rule"].map(priority).to_numpy().astype(np.int64)
    np.minimum.at(best, edges["a"].to_numpy(), prio)
    np.minimum.at(best, edges["b"].to_numpy(), prio)
    timings["cluster"] = time.perf_counter() - t

    t = time.perf_counter()
    person_ids, merges = _assign_person_ids(norm["record_id"], labels, previous, now)
    timings["person_ids"] = time.perf_counter() - t

    rid = norm["record_id"].to_numpy()
    graph = pd.DataFrame(
        {"record_id": rid, "person_id": person_ids, "match_rule": rule_names[best]}
    )
    edges_out = pd.DataFrame(
        {
            "record_id_a": rid[edges["a"].to_numpy()],
            "record_id_b": rid[edges["b"].to_numpy()],
            "rule": edges["rule"].to_numpy(),
            "score": edges["score"].to_numpy(dtype=float),
        }
    )
    possible_out = pd.DataFrame(
        {
            "record_id_a": rid[possible["a"].to_numpy(dtype=np.int64)],
            "record_id_b": rid[possible["b"].to_numpy(dtype=np.int64)],
            "score": possible["score"].to_numpy(dtype=float),
            "reason": possible["reason"].to_numpy(),
        }
    )
    cluster_report = pd.DataFrame(report, columns=REPORT_COLUMNS)
    if len(cluster_report):
        cluster_report = cluster_report.sort_values(
            ["kind", "count"], ascending=[True, False], ignore_index=True
        )
    timings["total"] = time.perf_counter() - t0
    sizes = np.bincount(labels) if n else np.zeros(0, int)
    stats = {
        "records": n,
        "persons": len(sizes),
        "largest_person": int(sizes.max()) if n else 0,
        "edges_per_rule": {k: int(v) for k, v in edges_out["rule"].value_counts().items()},
        "records_per_rule": {k: int(v) for k, v in graph["match_rule"].value_counts().items()},
        "candidate_pairs": int(n_candidates),
        "possible_matches": len(possible_out),
        "merges": len(merges),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    stats["model"] = model.as_dict()
    return ResolutionResult(
        graph=graph,
        edges=edges_out,
        merges=merges,
        cluster_report=cluster_report,
        possible_matches=possible_out,
        stats=stats,
    )
