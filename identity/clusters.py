"""Stage 4 of the identity engine: links refused between records that cannot be one person,
connected components, oversized components split by dropping their weakest rules, and the rule
by which each record joined its person."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdp import normalize as nz
from identity import compare as cmp
from identity.config import IdentityConfig
from identity.distinct import in_value_order
from identity.pairs import components, finding


class _Attribute:
    """A checked attribute (birth date, mobile) as codes in the order of its values (-1:
    none) with its sorted distinct values: a group's most frequent value and the span of a
    group's values are integer work, not pandas counts over millions of strings."""

    def __init__(self, values: pd.Series):
        codes, uniques = pd.factorize(values)
        text = np.asarray(uniques, dtype=object).astype(str).astype(object)
        self.codes, self.values = in_value_order(codes, text)


def _atom_modes(labels: np.ndarray, attribute: _Attribute) -> np.ndarray:
    """The most frequent value of each component (its code; -1 when none), the smallest
    value among equally frequent ones."""
    out = np.full(labels.max() + 1 if len(labels) else 0, -1, dtype=np.int64)
    has = attribute.codes >= 0
    if has.any():
        size = len(attribute.values)
        key, count = np.unique(labels[has].astype(np.int64) * size + attribute.codes[has],
                               return_counts=True)  # fmt: skip
        atom, code = key // size, key % size
        order = np.lexsort((code, -count, atom))
        first = order[np.concatenate(([True], atom[order][1:] != atom[order][:-1]))]
        out[atom[first]] = code[first]
    return out


def _priorities(rules: pd.Series, priority: dict[str, int]) -> np.ndarray:
    """The priority of each edge's rule (NaN: a rule without one), looked up once per rule
    name rather than once per edge (millions of edges, a dozen rules)."""
    codes, names = pd.factorize(rules)
    return np.array([priority.get(r, np.nan) for r in names], dtype=float)[codes]


def _conflicting(ca: np.ndarray, cb: np.ndarray, attribute: _Attribute, dates: bool) -> np.ndarray:
    """Both present and different (for dates: and not a typo of each other)."""
    both = (ca >= 0) & (cb >= 0) & (ca != cb)
    if not dates:
        return both
    out = np.zeros(len(ca), dtype=bool)
    sel = np.flatnonzero(both)
    if len(sel):
        values = attribute.values
        out[sel] = ~cmp.date_typo(values[ca[sel]].astype(str), values[cb[sel]].astype(str))
    return out


def _drop_conflicting_links(
    n: int,
    edges: pd.DataFrame,
    norm: pd.DataFrame,
    config: IdentityConfig,
    report: list,
    probabilistic_dates: bool = True,
) -> pd.DataFrame:
    """Refuse links of the checked rules that would join records that cannot be one person.

    Rules are applied in priority order. The rules not checked (exact identifiers) form the
    starting groups; each checked rule's edges are then kept only between groups whose birth
    dates / mobile numbers (most frequent in each group) do not conflict, and, when a rule's
    edges chain conflicting groups through a third one, that rule's edges inside the resulting
    group are dropped as well. Father and son with the same name at the same address, or two
    homonyms sharing an e-mail address, stay apart when their birth dates or mobiles are known.
    ``probabilistic_dates=False``: the probabilistic links are not checked on birth dates (a
    file whose namesakes at one home are rare, where the model weighed the date that differs).
    """
    conf = config.conflicts
    attributes: list[tuple[str, _Attribute, bool]] = []
    if conf.birth_date:
        attributes.append(("birth_date", _Attribute(norm["birth_date"]), True))
    if conf.mobile_phone:
        phone = norm["phone"]
        mobile = phone.where(nz.is_mobile_series(phone), None)
        attributes.append(("mobile_phone", _Attribute(mobile), False))
    if not attributes:
        return edges
    priority = config.rule_priority()
    prio = _priorities(edges["rule"], priority)
    codes, names = pd.factorize(edges["rule"])
    is_checked = np.isin(np.asarray(names, dtype=object), list(conf.rules))[codes]
    keep = ~is_checked
    a_all, b_all = edges["a"].to_numpy(), edges["b"].to_numpy()
    refused: dict[str, int] = {}
    for level in sorted(set(prio[is_checked].tolist())):
        labels = components(n, a_all[keep], b_all[keep])
        batch = np.flatnonzero(is_checked & (prio == level))
        ok = np.ones(len(batch), dtype=bool)
        modes = {}
        skip = (
            set() if probabilistic_dates or level != priority["probabilistic"] else {"birth_date"}
        )
        for name, attribute, dates in attributes:
            modes[name] = _atom_modes(labels, attribute)
            m = modes[name]
            if name in skip:
                continue
            bad = _conflicting(m[labels[a_all[batch]]], m[labels[b_all[batch]]], attribute, dates)
            refused[name] = refused.get(name, 0) + int((bad & ok).sum())
            ok &= ~bad
        # chains: a group formed by this batch must not hold conflicting values
        trial = keep.copy()
        trial[batch[ok]] = True
        new_labels = components(n, a_all[trial], b_all[trial])
        for name, attribute, dates in attributes:
            if name in skip:
                continue
            held = modes[name][labels]
            has = held >= 0
            # codes follow the values' order: a group's smallest and largest code are its
            # smallest and largest value
            span = (
                pd.DataFrame({"group": new_labels[has], "v": held[has]})
                .groupby("group")["v"]
                .agg(["min", "max"])
            )
            span = span[span["min"] != span["max"]]
            if len(span):
                low, high = span["min"].to_numpy(), span["max"].to_numpy()
                bad_groups = span.index[_conflicting(low, high, attribute, dates)]
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
    prio = _priorities(edges["rule"], priority)
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
        if cut == prio.min():
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


def link(
    n: int,
    det: pd.DataFrame,
    prob_edges: pd.DataFrame,
    norm: pd.DataFrame,
    config: IdentityConfig,
    report: list,
    probabilistic_dates: bool = True,
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """(component label of each record, the edges kept, the match rule of each record)."""
    edges = pd.concat([det, prob_edges], ignore_index=True)
    edges["a"] = edges["a"].astype(np.int64)
    edges["b"] = edges["b"].astype(np.int64)
    if config.conflicts.enabled:
        edges = _drop_conflicting_links(n, edges, norm, config, report, probabilistic_dates)
    labels, edges = _cluster(n, edges, config, norm["record_id"], report)
    # how each record joined: its strongest incident edge
    priority = config.rule_priority()
    rule_names = np.array([*sorted(priority, key=priority.get), "singleton"], dtype=object)
    best = np.full(n, len(priority), dtype=np.int64)
    prio = _priorities(edges["rule"], priority).astype(np.int64)
    np.minimum.at(best, edges["a"].to_numpy(), prio)
    np.minimum.at(best, edges["b"].to_numpy(), prio)
    return labels, edges, rule_names[best]
