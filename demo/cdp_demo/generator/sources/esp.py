"""ESP contacts, campaigns and monthly message events."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from cdp_demo.generator import noise as Z
from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY, activity_at
from cdp_demo.generator.context import (
    Ctx,
    arrow_table,
    clip_time,
)
from cdp_demo.generator.records import log_view, person_view
from ingestion.sources.esp import CAMPAIGNS, CONTACTS, EVENTS

OPEN_BASE = {"loyal": 0.42, "new": 0.38, "lapsing": 0.30, "churned": 0.30, "one_off": 0.16}


def campaigns_schedule(ctx: Ctx) -> pd.DataFrame:
    from cdp_demo.generator.behaviour import month_edges

    edges = month_edges(ctx.start_s, ctx.end_s)
    rows = []
    themes = (
        "Nouveautés de la saison",
        "L'art du cuir",
        "Édition limitée",
        "Nos idées cadeaux",
        "La nouvelle collection",
        "Savoir-faire de nos ateliers",
        "Les essentiels",
    )
    for m in range(edges.size - 1):
        month_start = int(edges[m])
        mdate = datetime.fromtimestamp(month_start, tz=UTC)
        label = f"{mdate.year}-{mdate.month:02d}"
        plan = [("newsletter", "email", 2), ("newsletter", "email", 16), ("promo", "email", 9)]
        if mdate.month in (1, 6, 7, 11, 12):
            plan.append(("promo", "email", 24))
        if m % 2 == 0:
            plan.append(("event", "email", 20))
            plan.append(("promo", "sms", 12))
        for category, channel, day in plan:
            base = datetime(mdate.year, mdate.month, 1, tzinfo=UTC)
            sent = int(base.timestamp()) + (day - 1) * DAY + 8 * 3600
            if sent < ctx.start_s or sent > ctx.end_s - DAY:
                continue
            theme = themes[(m + day) % len(themes)]
            rows.append(
                {
                    "category": category,
                    "channel": channel,
                    "sent": sent,
                    "name": f"{label} {category} {channel} J{day}",
                    "subject": {
                        "newsletter": theme,
                        "promo": "Ventes privées : jusqu'à -30 %",
                        "event": "Vous êtes invité(e) en boutique",
                    }[category],
                }
            )
    df = pd.DataFrame(rows).sort_values(["sent", "name"], kind="stable").reset_index(drop=True)
    df["campaign_id"] = W.zfill("CMP-", 1 + np.arange(len(df)), 4)
    return df


def build_esp_contacts(
    ctx: Ctx, acc: pd.DataFrame, cards: pd.DataFrame, signups: pd.DataFrame
) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_esp"].to_numpy())
    origin = P["esp_origin"].to_numpy()[persons]
    t = P["first_seen"].to_numpy()[persons] + rng.integers(0, 30 * DAY, persons.size)
    shop_t = (
        pd.Series(persons)
        .map(acc[acc["kind"] == "main"].set_index("pidx")["created"])
        .to_numpy(dtype=float)
    )
    card_t = (
        pd.Series(persons)
        .map(cards[cards["kind"] == "main"].set_index("pidx")["issued"])
        .to_numpy(dtype=float)
    )
    ev_t = pd.Series(persons).map(signups.groupby("pidx")["event_s"].min()).to_numpy(dtype=float)
    t = np.where(origin == "shop", shop_t + 60, t)
    t = np.where(origin == "store", card_t + 3600, t)
    t = np.where(origin == "event", ev_t + 5 * DAY, t)
    t = clip_time(np.nan_to_num(t, nan=ctx.start_s).astype(np.int64), ctx)
    n_test = 2
    c = pd.DataFrame(
        {
            "pidx": np.concatenate([persons, np.full(n_test, -1)]),
            "created": np.concatenate([t, ctx.start_s + np.array([3 * DAY, 40 * DAY])]),
            "origin": np.concatenate([origin, np.array(["import", "import"], dtype=object)]),
        }
    )
    c = c.sort_values(["created", "pidx"], kind="stable").reset_index(drop=True)
    c["contact_id"] = W.zfill("SP-", 1000 + np.arange(len(c)), 8)
    real = c["pidx"].to_numpy() >= 0
    view = person_view(
        P,
        np.maximum(c["pidx"].to_numpy(), 0),
        c["created"].to_numpy(),
        rng,
        name_noise={Z.NO_ACCENT: 0.05, Z.UPPER: 0.02, Z.NICK: 0.01},
        email_noise={
            Z.E_CASE: 0.0,
            Z.E_PLUS: 0.01,
            Z.E_DOTS: 0.01,
            Z.E_DOMAIN_TYPO: 0.012,
            Z.E_ALT: 0.05,
        },
        phone_formats=(0.05, 0.05, 0.0, 0.0, 0.05, 0.85, 0.0),
        missing={"phone": 0.5, "first": 0.1},
        profile=ctx.profile,
    )
    test_no = np.cumsum(~real)
    view["email"] = np.where(
        real,
        pd.Series(view["email"]).str.strip().str.lower().to_numpy(dtype=object),
        "test+" + pd.Series(test_no).astype(str) + "@horizon.fr",
    )
    for key in ("first", "last", "phone"):
        view[key] = np.where(real, view[key], None)
    view["first"] = np.where(real, view["first"], "Test")
    c["email"], c["first"], c["last"], c["cellphone"] = (
        view["email"],
        view["first"],
        view["last"],
        view["phone"],
    )
    c["typo_domain"] = (view["e_codes"] == Z.E_DOMAIN_TYPO) & real
    c["sms"] = pd.notna(c["cellphone"]) & (rng.random(len(c)) < 0.6)
    keys = c["contact_id"].to_numpy()
    log_view(
        ctx.log,
        "esp_contact",
        keys[real],
        {k: (v[real] if isinstance(v, np.ndarray) else v) for k, v in view.items()},
        address=False,
    )
    ctx.add_identity(
        "esp_contact",
        keys,
        c["pidx"].to_numpy(),
        np.where(real, "", "TEST-8" + pd.Series(test_no).astype(str).str.zfill(5)),
    )
    ctx.add_seen(
        "esp_contact",
        keys[real],
        c["pidx"].to_numpy()[real],
        email=c["email"].to_numpy()[real],
        phone=c["cellphone"].to_numpy()[real],
    )
    return c


def write_esp(ctx: Ctx, contacts: pd.DataFrame) -> pd.DataFrame:
    """Campaign events month by month (bounded memory); returns the unsubscribes."""
    P, rng = ctx.P, ctx.rng
    camp = campaigns_schedule(ctx)
    ctx.con.register(
        "camp_t",
        pa.Table.from_pandas(
            camp.assign(sent_at=W.iso(camp["sent"].to_numpy()).to_numpy(zero_copy_only=False)),
            preserve_index=False,
        ),
    )
    path = ctx.landing / "esp" / "campaigns.csv"
    ctx.files[str(path)] = W.copy_csv(
        ctx.con,
        f"SELECT {W.select_list(CAMPAIGNS)} FROM camp_t ORDER BY campaign_id",
        path,
    )
    ctx.con.unregister("camp_t")
    n = len(contacts)
    created = contacts["created"].to_numpy()
    cp = contacts["pidx"].to_numpy()
    pp = np.maximum(cp, 0)
    base_open = np.where(
        cp >= 0, pd.Series(P["profile"].to_numpy()[pp]).map(OPEN_BASE).to_numpy(), 0.5
    )
    unsub_at = np.full(n, np.iinfo(np.int64).max)
    bounced_at = np.full(n, np.iinfo(np.int64).max)
    sms_ok = contacts["sms"].to_numpy()
    typo = contacts["typo_domain"].to_numpy()
    email = contacts["email"].to_numpy()
    cid = contacts["contact_id"].to_numpy()
    audience = {"newsletter": 0.20, "promo": 0.18, "event": 0.08}
    ev_types = ("sent", "delivered", "bounce", "open", "click", "unsubscribe")
    ctx.con.register(
        "esp_contacts",
        pa.table(
            {
                "ci": np.arange(n, dtype=np.int64),
                "contact_id": pa.array(cid),
                "email": pa.array(email, from_pandas=True),
            }
        ),
    )
    ctx.con.register(
        "esp_camps",
        pa.table(
            {
                "ki": np.arange(len(camp), dtype=np.int64),
                "campaign_id": pa.array(camp["campaign_id"].to_numpy()),
            }
        ),
    )
    pending: list[dict] = []
    seq = 0
    out_dir = ctx.landing / "esp" / "events"
    out_dir.mkdir(parents=True, exist_ok=True)
    month_idx = (
        camp["sent"].to_numpy().astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    )
    unsubs = []

    def flush(upto: int | None) -> None:
        nonlocal pending
        if not pending:
            return
        ev = {k: np.concatenate([p[k] for p in pending]) for k in pending[0]}
        ev_month = ev["t"].astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
        done = np.ones(ev_month.size, bool) if upto is None else ev_month <= upto
        pending = [] if upto is None else [{k: v[~done] for k, v in ev.items()}]
        for month in np.unique(ev_month[done]):
            m = done & (ev_month == month)
            ctx.con.register("esp_ev", pa.table({k: v[m] for k, v in ev.items()}))
            label = str(np.datetime64(int(month), "M"))
            path = out_dir / f"events_{label}.jsonl"
            tmp = out_dir / f".part_{label}.jsonl"
            types = "[" + ", ".join(f"'{x}'" for x in ev_types) + "]"
            select = W.select_list(
                EVENTS,
                {
                    "event_id": "'EV' || lpad(e.seq::VARCHAR, 12, '0')",
                    "campaign_id": "k.campaign_id",
                    "contact_id": "c.contact_id",
                    "email": "c.email",
                    "event_type": f"{types}[e.etype + 1]",
                    "occurred_at": "strftime(make_timestamp(e.t * 1000000), '%Y-%m-%dT%H:%M:%SZ')",
                    "url": "CASE WHEN e.etype = 4 THEN "
                    "'https://www.horizon-paris.com/fr/?utm_source=esp&utm_campaign=' "
                    "|| k.campaign_id END",
                    "bounce_type": "CASE e.bounce WHEN 1 THEN 'hard' WHEN 2 THEN 'soft' END",
                },
            )
            ctx.con.execute(f"""COPY (
                SELECT {select}
                FROM esp_ev e JOIN esp_contacts c ON c.ci = e.contact JOIN esp_camps k ON k.ki = e.camp
                ORDER BY e.t, e.seq) TO '{tmp}' (FORMAT JSON)""").fetchall()
            with open(path, "ab") as fh, open(tmp, "rb") as src:
                fh.write(src.read())
            tmp.unlink()
            ctx.files[str(path)] = ctx.files.get(str(path), 0) + int(m.sum())
            ctx.con.unregister("esp_ev")

    current = None
    for i, cm in enumerate(camp.itertuples(index=False)):
        if current is not None and month_idx[i] != current:
            flush(current)
        current = month_idx[i]
        s = int(cm.sent)
        ok = (created < s) & (unsub_at > s) & (bounced_at > s) & (cp >= 0)
        if cm.channel == "sms":
            ok &= sms_ok
            target = np.flatnonzero(ok & (rng.random(n) < 0.3))
        else:
            target = np.flatnonzero(ok & (rng.random(n) < audience[cm.category]))
        k = target.size
        if k == 0:
            continue
        t_sent = s + rng.integers(0, 3600, k)
        act = activity_at(P, pp[target], t_sent.astype(np.int64))
        hard = typo[target] if cm.channel == "email" else np.zeros(k, bool)
        soft = ~hard & (rng.random(k) < 0.01)
        delivered = ~hard & ~soft
        p_open = np.clip(base_open[target] * (0.25 + 0.75 * act), 0, 0.95)
        opened = delivered & (rng.random(k) < p_open) & (cm.channel == "email")
        clicked = opened & (rng.random(k) < 0.22 * (0.5 + act))
        if cm.channel == "sms":
            clicked = delivered & (rng.random(k) < 0.04 * (0.5 + act))
        unsub = delivered & (rng.random(k) < 0.002 + 0.006 * (1 - act))
        t_deliv = t_sent + rng.integers(5, 300, k)
        t_open = t_deliv + (rng.exponential(6 * 3600, k)).astype(np.int64)
        t_click = t_open + rng.integers(5, 600, k)
        t_unsub = np.where(opened, t_open, t_deliv) + rng.integers(30, 900, k)
        bounced_at[target[hard]] = t_sent[hard]
        unsub_at[target[unsub]] = t_unsub[unsub]
        bounce_code = np.where(hard, 1, 2).astype(np.int8)
        for code, (mask, tt) in enumerate(
            (
                (np.ones(k, bool), t_sent),
                (delivered, t_deliv),
                (hard | soft, t_deliv),
                (opened, t_open),
                (clicked, t_click),
                (unsub, t_unsub),
            )
        ):
            idx = np.flatnonzero(mask & (tt <= ctx.end_s))
            if idx.size == 0:
                continue
            pending.append(
                {
                    "seq": seq + np.arange(idx.size, dtype=np.int64),
                    "camp": np.full(idx.size, i, dtype=np.int64),
                    "contact": target[idx].astype(np.int64),
                    "etype": np.full(idx.size, code, dtype=np.int8),
                    "t": tt[idx].astype(np.int64),
                    "bounce": bounce_code[idx] if code == 2 else np.zeros(idx.size, np.int8),
                }
            )
            seq += idx.size
        u = np.flatnonzero(unsub & (t_unsub <= ctx.end_s))
        unsubs.append(
            pd.DataFrame({"pidx": cp[target[u]], "email": email[target[u]], "t": t_unsub[u]})
        )
    flush(None)
    # contacts with their final subscription state
    big = np.iinfo(np.int64).max
    stopped = (unsub_at < big) | (bounced_at < big)
    upd = np.where(stopped, np.minimum(unsub_at, bounced_at), created + rng.integers(0, 2 * DAY, n))
    upd = np.minimum(upd, ctx.end_s)
    ct = arrow_table(
        {
            "contact_id": cid,
            "email": email,
            "first_name": contacts["first"].to_numpy(),
            "last_name": contacts["last"].to_numpy(),
            "cellphone": contacts["cellphone"].to_numpy(),
            "subscribed_email": (~stopped).astype(int),
            "subscribed_sms": sms_ok.astype(int),
            "created_at": W.iso(created),
            "updated_at": W.iso(upd),
            "origin": contacts["origin"].to_numpy(),
        }
    )
    ctx.con.register("contacts_t", ct)
    path = ctx.landing / "esp" / "contacts.csv"
    ctx.files[str(path)] = W.copy_csv(
        ctx.con, f"SELECT {W.select_list(CONTACTS)} FROM contacts_t ORDER BY contact_id", path
    )
    return (
        pd.concat(unsubs, ignore_index=True)
        if unsubs
        else pd.DataFrame(columns=["pidx", "email", "t"])
    )
