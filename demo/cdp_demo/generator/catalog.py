"""Stores and product catalogue (small tables, built with plain loops)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from unidecode import unidecode

from cdp_demo.generator import names as N


def build_stores() -> pd.DataFrame:
    rows = []
    for sid, name, kind, street, postcode, city, country, opened in N.STORES:
        slug = unidecode(city).lower().replace(" ", "").replace("-", "")
        rows.append(
            {
                "store_id": sid,
                "name": name,
                "kind": kind,
                "street": street,
                "postcode": postcode,
                "city": city,
                "country": country,
                "opened_on": opened,
                "generic_email": f"boutique.{slug}{sid[-2:]}@horizon-paris.com",
            }
        )
    return pd.DataFrame(rows)


def build_catalog(
    rng: np.random.Generator, start_s: int, end_s: int, size: int = 620
) -> pd.DataFrame:
    cat_w = np.array([0.20, 0.17, 0.27, 0.12, 0.14, 0.10])
    cats = rng.choice(len(N.CATEGORIES), size=size, p=cat_w)
    rows = []
    counters = {c: 0 for c in N.CATEGORIES}
    code = {
        "bags": "BAG",
        "shoes": "SHO",
        "ready_to_wear": "RTW",
        "jewellery": "JEW",
        "accessories": "ACC",
        "beauty": "BEA",
    }
    for i in range(size):
        cat = N.CATEGORIES[cats[i]]
        counters[cat] += 1
        sub_key, sub_label = N.SUBCATEGORIES[cat][int(rng.integers(0, len(N.SUBCATEGORIES[cat])))]
        lo, hi = N.PRICE_RANGES[cat]
        price = float(np.round(np.exp(rng.uniform(np.log(lo), np.log(hi))) / 5) * 5 - 0.0)
        if cat == "beauty":
            price = float(np.round(price) + 0.0)
        model = N.MODEL_WORDS[int(rng.integers(0, len(N.MODEL_WORDS)))]
        material = N.MATERIALS[int(rng.integers(0, len(N.MATERIALS)))]
        launched = (
            start_s - int(rng.integers(0, 700)) * 86_400 + int(rng.integers(0, 1100)) * 86_400
        )
        launched = min(launched, end_s - 86_400)
        updated = min(launched + int(rng.integers(0, 400)) * 86_400, end_s)
        rows.append(
            {
                "sku": f"HZ-{code[cat]}-{counters[cat]:04d}",
                "name": f"{sub_label} {model} {material}",
                "category": cat,
                "subcategory": sub_key,
                "collection": N.COLLECTIONS[int(rng.integers(0, len(N.COLLECTIONS)))],
                "price": round(price, 2),
                "cost": round(price * float(rng.uniform(0.18, 0.35)), 2),
                "currency": "EUR",
                "stock_qty": int(rng.integers(0, 240)),
                "is_active": bool(rng.random() > 0.12),
                "launched_s": launched,
                "updated_s": updated,
                "popularity": float(rng.pareto(1.6) + 0.2),
            }
        )
    return pd.DataFrame(rows)
