"""Product recommendations from order lines and product views, with the `implicit` library.

Interactions as of a cutoff (nothing on or after the end of the cutoff day, at most
`history_days` back): each purchased line weighs 1, each product view `view_weight`, each
add-to-cart `cart_weight`, summed per (person, product). Candidates: implicit alternating least
squares (matrix factorisation for implicit feedback, Hu, Koren & Volinsky 2008) and item-to-item
co-occurrence / cosine / BM25 neighbours, and category affinity (the share of the person's
interactions in each catalogue category times the product's popularity within it, when the
catalogue's categories are given); the popularity ranking (buyers in the last
`popularity_days`) is the baseline and the fallback. A personal score is turned into a
distribution over products (clipped at 0, divided by its sum) and mixed with the popularity
distribution: `a * personal + (1 - a) * popularity`, so that a thin history shifts the popular
list towards the person's products instead of replacing it. The candidate and its weight `a`
are chosen inside the training window: fitted on the interactions before `A - test_days`,
graded on the purchases of `(A - test_days, A]` by the mean of hit rate@5 and recall@10.

Filters at scoring: only products in stock (`stock_quantity >= min_stock`, active), nothing the
person bought in the last `exclude_bought_days`; a person with no interaction gets the popular
products, and a personal list cut short by the filters is filled with popular ones.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from ml.behaviour import BehaviourData
from ml.features import _ts
from ml.prediction_config import RecommendationCandidate, RecommendationsConfig

POPULARITY = "popularity"
PERSONAL = "personalised"
FALLBACK = "popular"
EXTRA_CANDIDATES = 50  # fetched beyond top_n so that the per-person filter rarely runs dry
BATCH_CELLS = 4_000_000  # persons x products scored at once (dense float64: 32 MB)


@dataclass
class Interactions:
    users: pd.Index
    items: pd.Index
    matrix: sp.csr_matrix  # users x items, float32 weights


def interactions_at(data: BehaviourData, cutoff: date, cfg: RecommendationsConfig) -> Interactions:
    c = _ts(cutoff)
    parts = []
    if data.has("order_lines"):
        parts.append(
            f"""SELECT customer_id, sku, 1.0 AS w FROM {data.ns}.order_lines
            WHERE quantity > 0 AND ordered_at < {c}
              AND ordered_at >= {c} - INTERVAL {cfg.history_days} DAY"""
        )
    if data.has("product_events"):
        parts.append(
            f"""SELECT customer_id, sku,
                   CASE event_type WHEN 'add_to_cart' THEN {cfg.cart_weight}
                                   ELSE {cfg.view_weight} END AS w
            FROM {data.ns}.product_events
            WHERE occurred_at < {c} AND occurred_at >= {c} - INTERVAL {cfg.history_days} DAY"""
        )
    if not parts:
        raise ValueError("recommendations need order lines or product events")
    frame = data.con.execute(
        f"""SELECT customer_id, sku, sum(w) AS w FROM ({" UNION ALL ".join(parts)})
        WHERE sku IS NOT NULL GROUP BY ALL HAVING sum(w) > 0 ORDER BY customer_id, sku"""
    ).df()
    users = pd.Index(frame["customer_id"].unique())
    items = pd.Index(np.sort(frame["sku"].unique()))
    matrix = sp.csr_matrix(
        (
            frame["w"].to_numpy(np.float32),
            (users.get_indexer(frame["customer_id"]), items.get_indexer(frame["sku"])),
        ),
        shape=(len(users), len(items)),
    )
    return Interactions(users, items, matrix)


def popularity_at(data: BehaviourData, cutoff: date, days: int) -> pd.Series:
    """Share of the period's buyers who bought each product, highest first (ties by SKU)."""
    c = _ts(cutoff)
    frame = data.con.execute(
        f"""WITH b AS (SELECT customer_id, sku FROM {data.ns}.order_lines
                WHERE quantity > 0 AND ordered_at < {c}
                  AND ordered_at >= {c} - INTERVAL {int(days)} DAY)
        SELECT sku, count(DISTINCT customer_id) / (SELECT count(DISTINCT customer_id) FROM b)
               AS share
        FROM b GROUP BY sku ORDER BY share DESC, sku"""
    ).df()
    return pd.Series(frame["share"].to_numpy(), index=frame["sku"], name="share")


def purchases_between(data: BehaviourData, start: date, end: date) -> pd.DataFrame:
    """Distinct `(customer_id, sku)` bought after the end of `start` up to the end of `end`."""
    return data.con.execute(
        f"""SELECT DISTINCT customer_id, sku FROM {data.ns}.order_lines
        WHERE quantity > 0 AND ordered_at >= {_ts(start)} AND ordered_at < {_ts(end)}
        ORDER BY ALL"""
    ).df()


@dataclass
class CategoryAffinity:
    """Factors of the category model: a person's weights per category (`user_factors`,
    interactions x category membership) and each product's share of its category's
    popularity (`item_factors`); their product is sum_c weight(person, c) * P(product | c)."""

    user_factors: sp.csr_matrix  # persons x categories (sparse: a person is in few of them)
    item_factors: sp.csr_matrix  # products x categories


def _category_model(data: BehaviourData, inter: Interactions, pop: pd.Series) -> CategoryAffinity:
    if not data.has("item_groups"):
        raise ValueError("the category candidate needs the catalogue's categories")
    groups = data.con.execute(f"SELECT sku, item_group FROM {data.ns}.item_groups").df()
    groups = groups[groups["sku"].isin(inter.items)]
    names = pd.Index(groups["item_group"].unique())
    member = sp.csr_matrix(
        (
            np.ones(len(groups)),
            (inter.items.get_indexer(groups["sku"]), names.get_indexer(groups["item_group"])),
        ),
        shape=(len(inter.items), len(names)),
    )
    # a product in k categories counts 1/k in each of them
    per_item = np.asarray(member.sum(axis=1)).ravel()
    member = sp.diags(1.0 / np.where(per_item > 0, per_item, 1.0)) @ member
    share = member.multiply(pop.reindex(inter.items, fill_value=0.0).to_numpy()[:, None]).tocsc()
    totals = np.asarray(share.sum(axis=0)).ravel()
    share = share @ sp.diags(1.0 / np.where(totals > 0, totals, 1.0))
    users = inter.matrix.astype(np.float64) @ member
    return CategoryAffinity(users.tocsr(), share.tocsr())


#: the fields of a RecommendationCandidate that are ALS hyper-parameters
ALS_PARAMETERS = {"factors", "regularization", "alpha", "iterations"}


def _make_model(cand: RecommendationCandidate, seed: int, threads: int):
    from implicit.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import (
        BM25Recommender,
        CosineRecommender,
        ItemItemRecommender,
    )

    if cand.kind == "als":
        # the candidate's fields are named after implicit's ALS parameters
        return AlternatingLeastSquares(
            **cand.model_dump(include=ALS_PARAMETERS),
            random_state=seed,
            num_threads=threads,
            use_gpu=False,
        )
    cls = {
        "item_cooccurrence": ItemItemRecommender,
        "item_cosine": CosineRecommender,
        "bm25": BM25Recommender,
    }[cand.kind]
    return cls(K=cand.neighbours, num_threads=threads)


@dataclass
class Recommender:
    """A fitted candidate (or popularity only) with the interactions it was fitted on."""

    as_of: date
    kind: str  # POPULARITY or a candidate kind
    params: dict | None
    interactions: Interactions
    popularity: pd.Series
    model: object | None = None
    threads: int = 1
    blend: float = 1.0  # weight `a` of the personal distribution next to popularity
    validation: dict = field(default_factory=dict)

    def recommend(
        self,
        persons: pd.Index,
        top_n: int,
        *,
        exclude: pd.DataFrame | None = None,
        allowed: set[str] | None = None,
    ) -> pd.DataFrame:
        """`customer_id, rank, sku, score, reason` for every person of `persons`: products in
        `allowed` only (all when None), never a `(customer_id, sku)` of `exclude`."""
        pop = self.popularity
        if allowed is not None:
            pop = pop[pop.index.isin(allowed)]
        # enough candidates that the exclusions can never leave a list short
        extra = 0
        if exclude is not None and len(exclude):
            extra = min(int(exclude.groupby("customer_id").size().max()), EXTRA_CANDIDATES)
        k = top_n + extra
        frames = []
        known = persons[persons.isin(self.interactions.users)]
        if self.model is not None and len(known):
            frames.append(self._personal(known, k, allowed))
        pop = pop.iloc[:k]
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": np.repeat(persons.to_numpy(), len(pop)),
                    "sku": np.tile(pop.index.to_numpy(), len(persons)),
                    "score": np.tile(pop.to_numpy(), len(persons)),
                    "reason": FALLBACK,
                    "order": 1,
                }
            )
        )
        out = pd.concat(frames, ignore_index=True)
        if exclude is not None and len(exclude):
            key = exclude[["customer_id", "sku"]].drop_duplicates().assign(_x=1)
            out = out.merge(key, on=["customer_id", "sku"], how="left")
            out = out[out["_x"].isna()].drop(columns="_x")
        out = out.drop_duplicates(["customer_id", "sku"], keep="first")
        out = out.sort_values(
            ["customer_id", "order", "score", "sku"], ascending=[True, True, False, True]
        )
        out["rank"] = out.groupby("customer_id").cumcount() + 1
        out = out[out["rank"] <= top_n]
        return out[["customer_id", "rank", "sku", "score", "reason"]].reset_index(drop=True)

    def without(self, persons: list[str]) -> Recommender:
        """This model with no trace of ``persons`` (right to erasure): their rows of the
        interactions and, in a factor model, their factors go; the items, their similarities
        and the popularity (aggregates over everyone) stay."""
        keep = np.flatnonzero(~self.interactions.users.isin(persons))
        inter = self.interactions
        inter = Interactions(inter.users[keep], inter.items, inter.matrix[keep])
        model = self.model
        if getattr(model, "user_factors", None) is not None:
            model = copy.copy(model)
            model.user_factors = model.user_factors[keep]
            model._user_norms = None  # implicit's cache of the factors' norms
        return replace(self, interactions=inter, model=model)

    def _personal(self, known: pd.Index, k: int, allowed: set[str] | None) -> pd.DataFrame:
        """The top `k` of `a * personal + (1 - a) * popularity` per person, in batches."""
        inter = self.interactions
        rows = inter.users.get_indexer(known)
        n_items = len(inter.items)
        pop = self.popularity.reindex(inter.items, fill_value=0.0).to_numpy(np.float64)
        pop = pop / pop.sum() if pop.sum() > 0 else pop
        blocked = None if allowed is None else ~inter.items.isin(allowed)
        k = min(k, n_items)
        step = max(1, BATCH_CELLS // max(n_items, 1))
        ids, scores = [], []
        for start in range(0, len(rows), step):
            s = np.clip(self._scores(rows[start : start + step]), 0.0, None)
            total = s.sum(axis=1, keepdims=True)
            s = np.divide(s, total, out=np.zeros_like(s), where=total > 0)
            s = self.blend * s + (1.0 - self.blend) * pop
            if blocked is not None:
                s[:, blocked] = -np.inf
            top = np.argpartition(-s, k - 1, axis=1)[:, :k]
            ids.append(top)
            scores.append(np.take_along_axis(s, top, axis=1))
        ids, scores = np.vstack(ids), np.vstack(scores)
        valid = np.isfinite(scores) & (scores > 0)
        person = np.repeat(known.to_numpy(), ids.shape[1]).reshape(ids.shape)
        return pd.DataFrame(
            {
                "customer_id": person[valid],
                "sku": inter.items.to_numpy()[ids[valid]],
                "score": scores[valid],
                "reason": f"{PERSONAL}:{self.kind}",
                "order": 0,
            }
        )

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        """Dense personal scores of the persons at `rows` over every product: the person's
        interactions times the item-item similarity, or the factors' dot products."""
        with threadpool_limits(limits=self.threads):
            similarity = getattr(self.model, "similarity", None)
            if similarity is not None:
                return (self.interactions.matrix[rows] @ similarity).toarray().astype(np.float64)
            users, items = self.model.user_factors[rows], self.model.item_factors
            if sp.issparse(users):
                return (users @ items.T).toarray()
            return np.asarray(users, dtype=np.float64) @ np.asarray(items, dtype=np.float64).T


def _fit(
    data: BehaviourData,
    cutoff: date,
    cand: RecommendationCandidate | None,
    cfg: RecommendationsConfig,
    seed: int,
    threads: int,
) -> Recommender:
    inter = interactions_at(data, cutoff, cfg)
    pop = popularity_at(data, cutoff, cfg.popularity_days)
    if cand is None or inter.matrix.nnz == 0:
        return Recommender(cutoff, POPULARITY, None, inter, pop, threads=threads)
    if cand.kind == "category":
        model = _category_model(data, inter, pop)
        return Recommender(cutoff, cand.kind, cand.model_dump(), inter, pop, model, threads)
    with threadpool_limits(limits=threads):
        model = _make_model(cand, seed, threads)
        # implicit's neighbour models take float64 weights, its ALS float32
        weights = inter.matrix if cand.kind == "als" else inter.matrix.astype(np.float64)
        model.fit(weights, show_progress=False)
    if getattr(model, "similarity", None) is not None:
        # a product is not its own neighbour: buying it again is the exclusion window's call
        model.similarity.setdiag(0.0)
        model.similarity.eliminate_zeros()
    return Recommender(cutoff, cand.kind, cand.model_dump(), inter, pop, model, threads)


def hit_rate_recall(recs: pd.DataFrame, bought: pd.DataFrame) -> dict[str, float]:
    """Hit rate@5 (share of buyers with a bought product in their top 5) and recall@10 (mean
    share of each buyer's bought products found in the top 10), over the buyers of `bought`."""
    persons = bought["customer_id"].unique()
    if not len(persons):
        return {"hit_rate_at_5": float("nan"), "recall_at_10": float("nan"), "n": 0}
    hits = recs.merge(bought, on=["customer_id", "sku"])
    hit5 = hits.loc[hits["rank"] <= 5, "customer_id"].nunique()
    found10 = hits[hits["rank"] <= 10].groupby("customer_id").size()
    wanted = bought.groupby("customer_id").size()
    recall = (found10.reindex(wanted.index, fill_value=0) / wanted).mean()
    return {"hit_rate_at_5": hit5 / len(persons), "recall_at_10": float(recall), "n": len(persons)}


def grade(
    rec: Recommender, data: BehaviourData, cutoff: date, end: date, cfg: RecommendationsConfig
) -> dict[str, float]:
    """Recommend (top 10, the exclusion filter of scoring) for everyone who bought in
    `(cutoff, end]` and grade against what they bought."""
    bought = purchases_between(data, cutoff, end)
    persons = pd.Index(bought["customer_id"].unique())
    exclude = recently_bought(data, cutoff, cfg.exclude_bought_days)
    recs = rec.recommend(persons, max(10, cfg.top_n), exclude=exclude)
    out = hit_rate_recall(recs, bought)
    out["with_history"] = int(persons.isin(rec.interactions.users).sum())
    return out


def recently_bought(data: BehaviourData, cutoff: date, days: int) -> pd.DataFrame:
    if days <= 0:
        return pd.DataFrame(columns=["customer_id", "sku"])
    return purchases_between(data, cutoff - timedelta(days=days), cutoff)


def _criterion(m: dict) -> float:
    return float(np.nan_to_num((m["hit_rate_at_5"] + m["recall_at_10"]) / 2))


def train(
    data: BehaviourData, as_of: date, cfg: RecommendationsConfig, seed: int, threads: int
) -> Recommender:
    """Choose the candidate and its blend weight on the last `test_days` before `as_of`, refit
    the chosen one as of `as_of`."""
    val = as_of - timedelta(days=cfg.test_days)
    table: dict[str, dict] = {}
    options: dict[str, tuple[RecommendationCandidate | None, float]] = {POPULARITY: (None, 0.0)}
    table[POPULARITY] = grade(_fit(data, val, None, cfg, seed, threads), data, val, as_of, cfg)
    skipped = []
    for i, cand in enumerate(cfg.candidates, start=1):
        if cand.kind == "category" and not data.has("item_groups"):
            skipped.append(f"{cand.kind}_{i}: no catalogue categories")
            continue
        fitted = _fit(data, val, cand, cfg, seed, threads)
        for a in cfg.blend_weights:
            name = f"{cand.kind}_{i}@{a:g}"
            options[name] = (cand, a)
            table[name] = grade(replace(fitted, blend=a), data, val, as_of, cfg)
    chosen = max(table, key=lambda n: (_criterion(table[n]), n == POPULARITY))
    cand, a = options[chosen]
    rec = replace(_fit(data, as_of, cand, cfg, seed, threads), blend=a)
    rec.validation = {
        "cutoff": val.isoformat(),
        "until": as_of.isoformat(),
        "criterion": "highest mean of hit rate@5 and recall@10 on the purchases between the "
        "two dates (candidate_index@blend weight; a tie goes to popularity)",
        "metrics": table,
        "chosen": chosen,
        "skipped": skipped,
    }
    return rec


def backtest(
    data: BehaviourData,
    cutoff: date,
    end: date,
    cfg: RecommendationsConfig,
    seed: int,
    threads: int,
) -> dict:
    """Train as of `cutoff` (the choice made before it) and grade the chosen recommender and
    popularity on the purchases of `(cutoff, end]`."""
    trained = train(data, cutoff, cfg, seed, threads)
    pop = _fit(data, cutoff, None, cfg, seed, threads)
    return {
        "cutoff": cutoff.isoformat(),
        "until": end.isoformat(),
        "chosen": trained.kind,
        "validation": trained.validation,
        "metrics": {
            "model": grade(trained, data, cutoff, end, cfg),
            POPULARITY: grade(pop, data, cutoff, end, cfg),
        },
    }
