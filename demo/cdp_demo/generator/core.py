"""`generate()`: build the population, simulate three years of history, write every source."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cdp_demo.generator.behaviour import DAY, order_events, order_lines
from cdp_demo.generator.catalog import build_catalog, build_stores
from cdp_demo.generator.context import Ctx, epoch
from cdp_demo.generator.ground_truth import build_traps, write_ground_truth
from cdp_demo.generator.history import DEFAULT_END_DATE
from cdp_demo.generator.persons import build_persons
from cdp_demo.generator.profiles import DEFAULT_PROFILE, get_profile
from cdp_demo.generator.sources.catalog import write_catalog
from cdp_demo.generator.sources.clienteling import write_clienteling
from cdp_demo.generator.sources.consent import write_consent
from cdp_demo.generator.sources.esp import build_esp_contacts, write_esp
from cdp_demo.generator.sources.pos import build_cards, write_pos
from cdp_demo.generator.sources.service import write_service
from cdp_demo.generator.sources.shop_customers import build_shop_accounts, write_shop_customers
from cdp_demo.generator.sources.shop_orders import write_shop_orders
from cdp_demo.generator.sources.spreadsheets import build_signups, write_spreadsheets
from cdp_demo.generator.sources.web import build_cookies, write_web


# --------------------------------------------------------------------------------------------
def assign_presence(ctx: Ctx) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    n = len(P)
    ch = P["channel_preference"].to_numpy()
    u = rng.random((7, n))
    pick = lambda web, store, both: np.select([ch == "web", ch == "store"], [web, store], both)  # noqa: E731
    in_shop = u[0] < pick(0.93, 0.05, 0.95)
    in_pos = u[1] < pick(0.02, 0.78, 0.90)
    # advisors, service desks and events mostly see the omnichannel clients
    in_cl = u[2] < np.where(ch == "both", 0.45, np.where(in_pos, 0.10, 0.005))
    in_svc = u[3] < np.where(ch == "both", 0.25, np.where(in_shop, 0.08, 0.04))
    in_ss = u[4] < np.where(ch == "both", 0.10, 0.03)
    shop_sub = in_shop & (u[5] < 0.66)
    card_optin = in_pos & (u[6] < 0.60)
    v = rng.random((3, n))
    esp_store = card_optin & (v[0] < 0.75)
    esp_event = in_ss & (v[1] < 0.7)
    esp_import = v[2] < 0.07
    in_esp = shop_sub | esp_store | esp_event | esp_import
    P["in_shop"], P["in_pos"], P["in_clienteling"] = in_shop, in_pos, in_cl
    P["in_service"], P["in_spreadsheet"], P["in_esp"] = in_svc, in_ss, in_esp
    P["shop_subscribed"], P["card_optin"] = shop_sub, card_optin
    P["esp_origin"] = np.select(
        [shop_sub, esp_store, esp_event], ["shop", "store", "event"], "import"
    )
    return P


# --------------------------------------------------------------------------------------------
def generate(
    customers: int,
    seed: int,
    out: Path,
    end_date: date = DEFAULT_END_DATE,
    noise: str = DEFAULT_PROFILE,
) -> dict:
    """Generate the demo retailer's source extracts and ground truth under `out`.

    `noise` names a profile of noise_profiles.yaml (`standard`, `unseen`). Returns a report:
    rows per file or table, seconds per stage and measured planted rates.
    """
    if customers < 50:
        raise ValueError(f"customers must be at least 50, got {customers}")
    profile = get_profile(noise)
    out = Path(out)
    rng = np.random.default_rng(seed)
    start = (
        end_date.replace(year=end_date.year - 3) + timedelta(days=1)
        if not (end_date.month == 2 and end_date.day == 29)
        else date(end_date.year - 3, 3, 1)
    )
    start_s, end_s = epoch(start), epoch(end_date) + DAY - 1
    for sub in ("landing", "ground_truth"):
        target = out / sub
        if target.exists():
            import shutil

            shutil.rmtree(target)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true").fetchall()
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 3)
        clock = now

    P = build_persons(customers, rng, start_s, end_s)
    ctx = Ctx(rng=rng, P=P, out=out, start_s=start_s, end_s=end_s, con=con, profile=profile)
    assign_presence(ctx)
    stage("persons")
    stores = build_stores()
    catalog = build_catalog(rng, start_s, end_s)
    ctx.catalog = catalog
    ctx.catalog_skus = catalog["sku"].to_numpy(dtype=object)
    ctx.catalog_p = (catalog["popularity"] / catalog["popularity"].sum()).to_numpy()
    write_catalog(ctx, catalog)
    stage("catalog")
    orders = order_events(P, rng, start_s, end_s)
    pw = np.array([0.92, 0.08, 0.5])[
        pd.Categorical(P["channel_preference"], categories=["web", "store", "both"]).codes
    ]
    pw = np.where(
        (P["channel_preference"] == "store").to_numpy() & ~P["in_shop"].to_numpy(), 0.012, pw
    )
    orders["is_web"] = rng.random(len(orders)) < pw[orders["pidx"].to_numpy()]
    fav = P["favourite_store"].to_numpy()[orders["pidx"].to_numpy()]
    store_w = np.where(stores["city"] == "Paris", 3.0, 1.0)
    orders["store"] = np.where(
        rng.random(len(orders)) < 0.78,
        fav,
        rng.choice(len(stores), len(orders), p=store_w / store_w.sum()),
    )
    outlet = (~orders["is_web"].to_numpy()) & (
        stores["kind"].to_numpy()[orders["store"].to_numpy()] == "outlet"
    )
    lines = order_lines(orders, P, catalog, outlet, rng)
    stage("history")
    acc = build_shop_accounts(ctx)
    cards = build_cards(ctx, stores)
    write_shop_customers(ctx, acc, cards)
    web_orders = write_shop_orders(ctx, acc, orders, lines)
    stage("shop")
    write_pos(ctx, cards, stores, orders, lines)
    del lines
    stage("pos")
    write_clienteling(ctx, stores, cards)
    stage("clienteling")
    signups = build_signups(ctx)
    contacts = build_esp_contacts(ctx, acc, cards, signups)
    unsubs = write_esp(ctx, contacts)
    stage("esp")
    cookies = build_cookies(ctx, acc, web_orders)
    write_web(ctx, cookies, web_orders)
    stage("web")
    write_service(ctx, web_orders)
    stage("service")
    write_spreadsheets(ctx, signups)
    stage("spreadsheets")
    write_consent(ctx, acc, cards, unsubs)
    stage("consent")
    traps = build_traps(ctx, stores)
    rates = write_ground_truth(ctx, traps, stores)
    stage("ground_truth")
    con.close()
    base = str(out) + "/"
    files = {k.replace(base, ""): int(v) for k, v in sorted(ctx.files.items())}
    report = {
        "customers": customers,
        "seed": seed,
        "noise": noise,
        "end_date": end_date.isoformat(),
        "start_date": start.isoformat(),
        "rows": files,
        "seconds": stages,
        "total_seconds": round(sum(stages.values()), 3),
        "measured": rates,
    }
    (out / "ground_truth" / "report.json").write_text(
        json.dumps(
            {k: v for k, v in report.items() if k not in ("seconds", "total_seconds")},
            indent=2,
            ensure_ascii=False,
        )
    )
    return report
