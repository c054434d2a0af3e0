"""Writes the catalogue export `catalog/products.csv`."""

from __future__ import annotations

import pandas as pd

from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY
from cdp_demo.generator.context import (
    Ctx,
    spec_table,
)
from ingestion.sources.specs import table_spec

PRODUCTS = table_spec("catalog", "products")


def write_catalog(ctx: Ctx, catalog: pd.DataFrame) -> None:
    c = catalog
    table = spec_table(
        PRODUCTS,
        c,
        launched_at=W.ymd(c["launched_s"].to_numpy() // DAY),
        updated_at=W.iso(c["updated_s"].to_numpy()),
    )
    ctx.con.register("catalog_t", table)
    path = ctx.landing / "catalog" / "products.csv"
    ctx.files[str(path)] = W.copy_csv(
        ctx.con,
        f"SELECT {W.select_list(PRODUCTS)} FROM catalog_t ORDER BY sku",
        path,
    )
