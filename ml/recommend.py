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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from ml.behaviour import BehaviourData
from ml.features import _ts, hash_cut_sql
from ml.prediction_config import RecommendationCandidate, RecommendationsConfig
from ml.recommend_choice import POPULARITY, choose, paired_gain, per_buyer
from ml.recommend_rank import Catalogue, Lists, hits, pair_matrix, rates, top_lists

PERSONAL = "personalised"
FALLBACK = "popular"
EXTRA_CANDIDATES = 50  # fetched beyond top_n so that the per-person filter rarely runs dry
BATCH_CELLS = 1_000_000  # persons x products scored at once (dense float64: 8 MB per array)


@dataclass
class Interactions:
    users: pd.Index
    items: pd.Index
    matrix: sp.csr_matrix  # users x items, float32 weights


def _weighted_sql(data: BehaviourData, start: str, end: str, cfg: RecommendationsConfig) -> str:
    """`customer_id, sku, ts, w`: the order lines and product events in `[start, end)` with
    their weights (exact decimals)."""
    parts = []
    if data.has("order_lines"):
        parts.append(
            f"""SELECT customer_id, sku, ordered_at AS ts, {_exact(1.0)} AS w
            FROM {data.ns}.order_lines
            WHERE quantity > 0 AND ordered_at < {end} AND ordered_at >= {start}"""
        )
    if data.has("product_events"):
        parts.append(
            f"""SELECT customer_id, sku, occurred_at AS ts,
                   CASE event_type WHEN 'add_to_cart' THEN {_exact(cfg.cart_weight)}
                                   ELSE {_exact(cfg.view_weight)} END AS w
            FROM {data.ns}.product_events WHERE occurred_at < {end} AND occurred_at >= {start}"""
        )
    if not parts:
        raise ValueError("recommendations need order lines or product events")
    return f"SELECT * FROM ({' UNION ALL '.join(parts)}) WHERE sku IS NOT NULL"


def _weights_key(cfg: RecommendationsConfig) -> tuple:
    # not a "recommend" key: `release` drops those by cutoff
    return ("interactions-of", cfg.history_days, cfg.view_weight, cfg.cart_weight)


@contextmanager
def interactions_of(
    data: BehaviourData, cutoffs: list[date], cfg: RecommendationsConfig
) -> Iterator[None]:
    """The weights per (person, product) of every cutoff of `cutoffs` in one pass over the
    inputs, one column per cutoff of a table next to the inputs, read by `interactions_at`
    while the block runs: the back-test and the training read three cutoffs, and each pass
    over a million persons' product events costs half a minute."""
    h = f"INTERVAL {int(cfg.history_days)} DAY"
    ends = {c: _ts(c) for c in sorted(set(cutoffs))}
    table = f"{data.work_ns}._rec_weights"
    sums = ", ".join(
        f"CAST(sum(w) FILTER (WHERE ts >= {e} - {h} AND ts < {e}) AS DOUBLE) AS w{k}"
        for k, e in enumerate(ends.values())
    )
    first, last = min(ends.values()), max(ends.values())
    data.con.execute(
        f"""CREATE OR REPLACE TABLE {table} AS SELECT customer_id, sku, {sums}
        FROM ({_weighted_sql(data, f"{first} - {h}", last, cfg)}) GROUP BY ALL"""
    )
    data.cache[_weights_key(cfg)] = (table, {c: f"w{k}" for k, c in enumerate(ends)})
    try:
        yield
    finally:
        del data.cache[_weights_key(cfg)]
        data.con.execute(f"DROP TABLE IF EXISTS {table}")


def interactions_at(data: BehaviourData, cutoff: date, cfg: RecommendationsConfig) -> Interactions:
    """Persons x products weights of the `history_days` before the end of `cutoff`: read
    off the table of `interactions_of` when it holds the cutoff, else summed here."""
    c = _ts(cutoff)
    table, columns = data.cache.get(_weights_key(cfg), (None, {}))
    if cutoff in columns:
        pairs_sql = f"SELECT customer_id, sku, {columns[cutoff]} AS w FROM {table} WHERE {columns[cutoff]} > 0"
    else:
        weighted = _weighted_sql(data, f"{c} - INTERVAL {int(cfg.history_days)} DAY", c, cfg)
        pairs_sql = f"""SELECT customer_id, sku, CAST(sum(w) AS DOUBLE) AS w FROM ({weighted})
            GROUP BY ALL HAVING sum(w) > 0"""
    # integer codes computed by DuckDB (row numbers of the sorted distinct ids): only codes
    # and weights reach the process, not a string pair per interaction
    with data.con.cursor() as cur:  # its own temporary table and result
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _rec_pairs AS {pairs_sql}")
        try:
            users, items = (
                pd.Index(
                    cur.sql(f"SELECT DISTINCT {c} FROM _rec_pairs ORDER BY 1")
                    .to_arrow_table()[c]
                    .to_pandas(),
                    dtype=object,
                )
                for c in ("customer_id", "sku")
            )
            pairs = cur.sql(
                """WITH u AS (SELECT customer_id,
                                   CAST(row_number() OVER (ORDER BY customer_id) - 1 AS INTEGER) AS u
                              FROM (SELECT DISTINCT customer_id FROM _rec_pairs)),
                     i AS (SELECT sku, CAST(row_number() OVER (ORDER BY sku) - 1 AS INTEGER) AS i
                           FROM (SELECT DISTINCT sku FROM _rec_pairs))
                SELECT u, i, w FROM _rec_pairs JOIN u USING (customer_id) JOIN i USING (sku)"""
            ).fetchnumpy()
        finally:
            cur.execute("DROP TABLE IF EXISTS _rec_pairs")
    matrix = sp.csr_matrix(
        (
            np.asarray(pairs["w"], dtype=np.float32),
            (np.asarray(pairs["u"]), np.asarray(pairs["i"])),
        ),
        shape=(len(users), len(items)),
    )
    matrix.sort_indices()  # products in code order within a row: sums in a fixed order
    return Interactions(users, items, matrix)


def _exact(weight: float) -> str:
    """A weight as a DECIMAL literal: DuckDB sums decimals exactly, in any order (its parallel
    float sums differ in the last bits from run to run, which moved ties in the rankings)."""
    return f"CAST({float(weight)!r} AS DECIMAL(18, 6))"


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


def purchases_between(
    data: BehaviourData, start: date, end: date, max_buyers: int | None = None
) -> pd.DataFrame:
    """Distinct `(customer_id, sku)` bought after the end of `start` up to the end of `end`,
    sorted; both columns categorical (integer codes into the sorted distinct ids, by Arrow's
    dictionary encoding: a million buyers' rows are not a million Python strings each). With
    `max_buyers`, those of a hash sample of that many of the period's buyers (the same
    persons in every run, whatever the row order)."""
    lines = f"""SELECT DISTINCT customer_id, sku FROM {data.ns}.order_lines
        WHERE quantity > 0 AND ordered_at >= {_ts(start)} AND ordered_at < {_ts(end)}"""
    if max_buyers is not None:
        buyers = hash_cut_sql("SELECT DISTINCT customer_id FROM l", max_buyers, None)
        lines = f"WITH l AS ({lines}) SELECT * FROM l WHERE customer_id IN ({buyers})"
    with data.con.cursor() as cur:
        table = cur.sql(f"SELECT * FROM ({lines}) ORDER BY ALL").to_arrow_table()
    return pd.DataFrame(
        {
            name: pd.Categorical.from_codes(
                pc.index_in(table[name], value_set=values).to_numpy(),
                categories=pd.Index(values.to_pandas(), dtype=object),
            )
            for name in ("customer_id", "sku")
            for values in [_sorted_unique(table[name])]
        }
    )


def _sorted_unique(column: pa.ChunkedArray) -> pa.Array:
    """The distinct values of an Arrow column, sorted (their positions are the codes)."""
    values = pc.unique(column)
    return values.take(pc.sort_indices(values))


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
        cat = self.catalogue(allowed)
        parts = []
        for start, (lists,) in self.ranked(persons, top_n, cat, exclude=exclude):
            row, col = np.nonzero(lists.filled)
            parts.append(
                pd.DataFrame(
                    {
                        "customer_id": persons[start + row],
                        "rank": col + 1,
                        "sku": cat.items[lists.items[row, col]],
                        "score": lists.scores[row, col],
                        "reason": np.where(
                            lists.personal[row, col], f"{PERSONAL}:{self.kind}", FALLBACK
                        ),
                    }
                )
            )
        columns = ["customer_id", "rank", "sku", "score", "reason"]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)

    def catalogue(self, allowed: set[str] | None = None) -> Catalogue:
        """The model's products and the popular ones, the allowed popular ones in order."""
        inter = self.interactions
        items = inter.items.union(self.popularity.index)
        blocked = None if allowed is None else ~items.isin(list(allowed))
        codes = items.get_indexer(self.popularity.index)
        keep = np.ones(len(codes), dtype=bool) if blocked is None else ~blocked[codes]
        return Catalogue(
            items,
            items.get_indexer(inter.items),
            codes[keep],
            self.popularity.to_numpy(np.float64)[keep],
            blocked,
        )

    def ranked(
        self,
        persons: pd.Index,
        top_n: int,
        cat: Catalogue,
        *,
        exclude: pd.DataFrame | None = None,
        blends: tuple[float, ...] | None = None,
    ) -> Iterator[tuple[int, list[Lists]]]:
        """`(start, lists)` per block of persons (`persons[start:]`), one `Lists` per weight
        of `blends` (default: this model's), at most `BATCH_CELLS` persons x products scored
        at once: the persons x products frame is never formed, and the personal scores of a
        block are computed once for every weight."""
        blends = (self.blend,) if blends is None else blends
        rows = self.interactions.users.get_indexer(persons)  # -1: no interaction
        excluded = pair_matrix(exclude, persons, cat.items)
        step = max(1, BATCH_CELLS // max(len(cat.items), 1))
        pop = self._popular()
        # BLAS threads set once: threadpoolctl reads the process's memory map at every call
        with threadpool_limits(limits=self.threads):
            for start in range(0, len(persons), step):
                block = rows[start : start + step]
                known = np.flatnonzero(block >= 0) if self.model is not None else block[:0]
                personal = self._distribution(block[known]) if len(known) else None
                ex = None if excluded is None else excluded[start : start + step].toarray()
                lists = []
                for a in blends:
                    # `a * personal + (1 - a) * popularity`, both distributions over products
                    mixed = None if personal is None else a * personal + (1.0 - a) * pop
                    lists.append(top_lists(mixed, known, len(block), ex, cat, top_n))
                yield start, lists

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

    def _distribution(self, rows: np.ndarray) -> np.ndarray:
        """The personal scores of the persons at `rows` clipped at 0 and divided by their sum
        over the model's products (a distribution; all 0 without a positive score)."""
        s = np.clip(self._scores(rows), 0.0, None)
        total = s.sum(axis=1, keepdims=True)
        return np.divide(s, total, out=s, where=total > 0)

    def _popular(self) -> np.ndarray:
        """The popularity as a distribution over the model's products."""
        pop = self.popularity.reindex(self.interactions.items, fill_value=0.0).to_numpy(np.float64)
        return pop / pop.sum() if pop.sum() > 0 else pop

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        """Dense personal scores of the persons at `rows` over every product: the person's
        interactions times the item-item similarity, or the factors' dot products."""
        similarity = getattr(self.model, "similarity", None)
        if similarity is not None:
            return (self.interactions.matrix[rows] @ similarity).toarray().astype(np.float64)
        users, items = self.model.user_factors[rows], self.model.item_factors
        if sp.issparse(users):
            return (users @ items.T).toarray()
        return np.asarray(users, dtype=np.float64) @ np.asarray(items, dtype=np.float64).T


def _inputs(data: BehaviourData, cutoff: date, cfg: RecommendationsConfig):
    """Interactions and popularity as of `cutoff`, computed once per data, cutoff and weights
    (`data.cache`): the back-test and the training share their cutoffs."""
    key = ("recommend", cutoff, cfg.history_days, cfg.view_weight, cfg.cart_weight)
    key += (cfg.popularity_days,)
    if key not in data.cache:
        data.cache[key] = (
            interactions_at(data, cutoff, cfg),
            popularity_at(data, cutoff, cfg.popularity_days),
        )
    return data.cache[key]


def _fit(
    data: BehaviourData,
    cutoff: date,
    cand: RecommendationCandidate | None,
    cfg: RecommendationsConfig,
    seed: int,
    threads: int,
) -> Recommender:
    inter, pop = _inputs(data, cutoff, cfg)
    if cand is None or inter.matrix.nnz == 0:
        return Recommender(cutoff, POPULARITY, None, inter, pop, threads=threads)
    if cand.kind == "category":
        model = _category_model(data, inter, pop)
        return Recommender(cutoff, cand.kind, cand.model_dump(), inter, pop, model, threads)
    with threadpool_limits(limits=threads):
        model = _make_model(cand, seed, threads)
        if cand.kind == "als":
            _fit_factors(model, inter, cfg.fit_max_persons)
        else:  # implicit's neighbour models take float64 weights
            model.fit(inter.matrix.astype(np.float64), show_progress=False)
    if getattr(model, "similarity", None) is not None:
        # a product is not its own neighbour: buying it again is the exclusion window's call
        model.similarity.setdiag(0.0)
        model.similarity.eliminate_zeros()
    return Recommender(cutoff, cand.kind, cand.model_dump(), inter, pop, model, threads)


def _fit_factors(model, inter: Interactions, max_persons: int) -> None:
    """ALS on the interactions of at most `max_persons` persons (a hash sample of the ids:
    the same persons in every run), then every person's factors solved by least squares with
    the product factors fixed (implicit's `recalculate_user`: what the next half-iteration
    would give them). A few hundred thousand persons fix a catalogue's product factors; the
    iterations over millions of them cost minutes and change little."""
    n = len(inter.users)
    if n <= max_persons:
        model.fit(inter.matrix, show_progress=False)
        return
    key = pd.util.hash_pandas_object(pd.Series(inter.users, dtype=object), index=False)
    rows = np.argsort(key.to_numpy(), kind="stable")[:max_persons]
    rows = rows[np.argsort(inter.users[rows].to_numpy(), kind="stable")]  # in id order
    model.fit(inter.matrix[rows], show_progress=False)
    model.user_factors = model.recalculate_user(np.arange(n), inter.matrix)
    model._user_norms = None  # implicit's cache of the factors' norms


def _fitted(data, cutoff, cand, cfg, seed, threads) -> Recommender:
    """`_fit`, kept in `data.cache`: the back-test's final fit as of `E` is the training's
    validation fit of the same candidate."""
    key = ("recommend-fit", cutoff, None if cand is None else cand.model_dump_json())
    key += (
        cfg.model_dump_json(
            include={"history_days", "view_weight", "cart_weight", "fit_max_persons"}
        ),
    )
    key += (cfg.popularity_days, seed, threads)
    if key not in data.cache:
        data.cache[key] = _fit(data, cutoff, cand, cfg, seed, threads)
    return data.cache[key]


def hit_rate_recall(recs: pd.DataFrame, bought: pd.DataFrame) -> dict[str, float]:
    """Hit rate@5 (share of buyers with a bought product in their top 5) and recall@10 (mean
    share of each buyer's bought products found in the top 10), over the buyers of `bought`."""
    persons = pd.Index(bought["customer_id"].unique())
    if not len(persons):
        return rates(np.zeros(0), np.zeros(0), np.zeros(0))
    items = pd.Index(pd.concat([recs["sku"], bought["sku"]]).unique())
    top = np.full((len(persons), 10), -1, dtype=np.int64)
    recs = recs[recs["rank"] <= 10]
    row = persons.get_indexer(recs["customer_id"])
    ok = row >= 0
    top[row[ok], recs["rank"].to_numpy()[ok] - 1] = items.get_indexer(recs["sku"])[ok]
    lists = Lists(top, np.zeros(top.shape), np.zeros(top.shape, dtype=bool))
    hit5, found10 = hits(lists, pair_matrix(bought, persons, items).toarray())
    return rates(hit5, found10, bought.groupby("customer_id").size()[persons].to_numpy())


def grade(
    rec: Recommender, data: BehaviourData, cutoff: date, end: date, cfg: RecommendationsConfig
) -> dict[str, float]:
    """Recommend (top 10, the exclusion filter of scoring) for everyone who bought in
    `(cutoff, end]` and grade against what they bought."""
    return grade_blends(rec, data, cutoff, end, cfg, (rec.blend,))[rec.blend]


def grade_blends(
    rec: Recommender,
    data: BehaviourData,
    cutoff: date,
    end: date,
    cfg: RecommendationsConfig,
    blends: tuple[float, ...],
) -> dict[float, dict[str, float]]:
    """`grade` of `rec` at every blend weight of `blends`, the personal scores computed once."""
    return {
        a: graded[0] for a, graded in _grade_detail(rec, data, cutoff, end, cfg, blends).items()
    }


def _grade_detail(
    rec: Recommender,
    data: BehaviourData,
    cutoff: date,
    end: date,
    cfg: RecommendationsConfig,
    blends: tuple[float, ...],
) -> dict[float, tuple[dict[str, float], np.ndarray]]:
    """Per blend weight: the rates of `grade_blends` and each buyer's criterion
    (`ml.recommend_choice.per_buyer`, the buyers in id order), for paired comparisons."""
    bought, exclude = _window(data, cutoff, end, cfg)
    persons = bought["customer_id"].cat.categories  # the buyers, sorted
    if not len(persons):
        empty = {**rates(*[np.zeros(0)] * 3), "with_history": 0}
        return {a: (dict(empty), np.zeros(0, dtype=np.float32)) for a in blends}
    cat = rec.catalogue()
    got = pair_matrix(bought, persons, cat.items)
    hit5 = {a: [] for a in blends}
    found10 = {a: [] for a in blends}
    top = max(10, cfg.top_n)
    for start, lists in rec.ranked(persons, top, cat, exclude=exclude, blends=blends):
        block = got[start : start + len(lists[0].items)].toarray()
        for a, one in zip(blends, lists, strict=True):
            h, f = hits(one, block)
            hit5[a].append(h)
            found10[a].append(f)
    wanted = np.bincount(bought["customer_id"].cat.codes, minlength=len(persons))
    known = int((rec.interactions.users.get_indexer(persons) >= 0).sum())
    out = {}
    for a in blends:
        h, f = np.concatenate(hit5[a]), np.concatenate(found10[a])
        out[a] = ({**rates(h, f, wanted), "with_history": known}, per_buyer(h, f, wanted))
    return out


def _window(data: BehaviourData, cutoff: date, end: date, cfg: RecommendationsConfig):
    """What was bought in `(cutoff, end]` by at most `grade_max_buyers` of its buyers (a hash
    sample) and in the exclusion window before `cutoff`, read once per window (`data.cache`):
    every option is graded on the same buyers, so the comparisons stay paired."""
    key = ("recommend-window", cutoff, end, cfg.exclude_bought_days, cfg.grade_max_buyers)
    if key not in data.cache:
        data.cache[key] = (
            purchases_between(data, cutoff, end, cfg.grade_max_buyers),
            recently_bought(data, cutoff, cfg.exclude_bought_days),
        )
    return data.cache[key]


def recently_bought(data: BehaviourData, cutoff: date, days: int) -> pd.DataFrame:
    if days <= 0:
        return pd.DataFrame({"customer_id": pd.Categorical([]), "sku": pd.Categorical([])})
    return purchases_between(data, cutoff - timedelta(days=days), cutoff)


def _graded(
    rec: Recommender,
    data: BehaviourData,
    cutoff: date,
    end: date,
    cfg: RecommendationsConfig,
    blends: tuple[float, ...] | None = None,
) -> dict[float, tuple[dict[str, float], np.ndarray]]:
    """`_grade_detail` (default: the model's own weight), kept in `data.cache`: the
    training's validation window is the back-test's test window, so the back-test's two
    grades are among the validation's."""
    blends = (rec.blend,) if blends is None else blends
    # the fitted objects are themselves kept in the cache (`_fitted`), so their ids are stable
    key = ("recommend-grade", cutoff, id(rec.interactions), id(rec.model), rec.kind)
    key += (end, cfg.model_dump_json())
    done = data.cache.setdefault(key, {})
    missing = tuple(a for a in blends if a not in done)
    if missing:
        done.update(_grade_detail(rec, data, cutoff, end, cfg, missing))
    return {a: (dict(done[a][0]), done[a][1]) for a in blends}


def train(
    data: BehaviourData, as_of: date, cfg: RecommendationsConfig, seed: int, threads: int
) -> Recommender:
    """Choose the candidate and its blend weight on the last `test_days` before `as_of`
    (`ml.recommend_choice.choose`: the simplest option unless a more complex one is better by
    a margin the validation detects), refit the chosen one as of `as_of`."""
    val = as_of - timedelta(days=cfg.test_days)
    table: dict[str, dict] = {}
    values: dict[str, np.ndarray] = {}
    options: dict[str, tuple[RecommendationCandidate | None, float]] = {POPULARITY: (None, 0.0)}
    kinds: dict[str, tuple[str, int, float]] = {POPULARITY: (POPULARITY, 0, 0.0)}
    pop = _fitted(data, val, None, cfg, seed, threads)
    table[POPULARITY], values[POPULARITY] = _graded(pop, data, val, as_of, cfg)[pop.blend]
    skipped = []
    for i, cand in enumerate(cfg.candidates, start=1):
        if cand.kind == "category" and not data.has("item_groups"):
            skipped.append(f"{cand.kind}_{i}: no catalogue categories")
            continue
        fitted = _fitted(data, val, cand, cfg, seed, threads)
        graded = _graded(fitted, data, val, as_of, cfg, cfg.blend_weights)
        for a in cfg.blend_weights:
            name = f"{cand.kind}_{i}@{a:g}"
            options[name] = (cand, a)
            kinds[name] = (cand.kind, i, a)
            table[name], values[name] = graded[a]
    chosen, steps = choose(kinds, values)
    cand, a = options[chosen]
    rec = replace(_fitted(data, as_of, cand, cfg, seed, threads), blend=a)
    rec.validation = {
        "cutoff": val.isoformat(),
        "until": as_of.isoformat(),
        "criterion": "mean of hit rate@5 and recall@10 on the purchases between the two dates "
        "(candidate_index@blend weight); the simplest option (popularity, category, item-item, "
        "ALS) unless a more complex one gains more than 2 standard errors of the paired "
        "per-buyer differences",
        "metrics": table,
        "comparisons": steps,
        "chosen": chosen,
        "skipped": skipped,
    }
    return rec


def release(data: BehaviourData, before: date) -> None:
    """Drop the cached interactions, fits, windows and grades of the cutoffs before `before`
    (every recommender key is `(kind, cutoff, ...)`): once the back-test is done, its own
    validation cutoff serves nothing else, and at a million persons its interaction matrix,
    fits and purchase windows are a third of what the cache holds."""
    for key in [k for k in data.cache if str(k[0]).startswith("recommend") and k[1] < before]:
        del data.cache[key]


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
    pop = _fitted(data, cutoff, None, cfg, seed, threads)
    model, per_model = _graded(trained, data, cutoff, end, cfg)[trained.blend]
    base, per_base = _graded(pop, data, cutoff, end, cfg)[pop.blend]
    gain, se = paired_gain(per_model, per_base)
    return {
        "cutoff": cutoff.isoformat(),
        "until": end.isoformat(),
        "chosen": trained.kind,
        "validation": trained.validation,
        "metrics": {"model": model, POPULARITY: base},
        # mean per-buyer gain of the criterion over popularity, paired on the same buyers
        "model_minus_popularity": {
            "gain": round(gain, 6),
            "standard_error": round(se, 6) if np.isfinite(se) else None,
        },
    }
