"""Tests of the synthetic demo-data generator against docs/data_contract.md."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cdp_demo.generator import generate
from cdp_demo.generator.persons import unique_mailboxes

from ingestion.config import load_sources_config
from ingestion.sources.specs import table_spec

ROOT = Path(__file__).resolve().parents[2]
END = date(2026, 10, 31)
END_TS = pd.Timestamp("2026-10-31T23:59:59Z")
START_TS = pd.Timestamp("2023-11-01T00:00:00Z")
N = 1500


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    report = generate(N, 11, out, END)
    return out, report


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _names(source: str, table: str) -> list[str]:
    """The columns the source package declares (ingestion/sources/<source>/), in order."""
    return table_spec(source, table).schema.names


def _fields(source: str, table: str, column: str) -> list[str]:
    """The declared fields of a nested column (a struct, or a list of structs)."""
    arrow_type = table_spec(source, table).schema.field(column).type
    if pa.types.is_list(arrow_type):
        arrow_type = arrow_type.value_type
    return [f.name for f in arrow_type]


def _json(out: Path, pattern: str) -> pd.DataFrame:
    files = str(out / "landing" / pattern)
    return duckdb.sql(
        f"SELECT * FROM read_json('{files}', format='newline_delimited', "
        f"union_by_name=true, filename=true)"
    ).df()


def _csvs(out: Path, pattern: str) -> pd.DataFrame:
    parts = [
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted((out / "landing").glob(pattern))
    ]
    return pd.concat(parts, ignore_index=True)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = _hashes(Path(generate(400, 3, tmp_path / "a", END) and tmp_path / "a"))
    b = _hashes(Path(generate(400, 3, tmp_path / "b", END) and tmp_path / "b"))
    c = _hashes(Path(generate(400, 4, tmp_path / "c", END) and tmp_path / "c"))
    assert a == b
    assert a.keys() and set(a) & set(c)
    differing = [k for k in set(a) & set(c) if a[k] != c[k]]
    assert "ground_truth/persons.parquet" in differing
    assert len(differing) > 0.8 * len(set(a) & set(c))


def test_every_contract_file_exists_with_its_columns(demo):
    out, _ = demo
    land = out / "landing"
    monthly = re.compile(r"_\d{4}-\d{2}\.(jsonl|csv|parquet)$")
    for folder, stem in [
        ("shop/customers", "customers"),
        ("shop/orders", "orders"),
        ("shop/carts", "carts"),
        ("clienteling", "clients"),
        ("esp/events", "events"),
        ("web", "events"),
        ("service", "tickets"),
        ("consent", "consent_events"),
    ]:
        files = sorted((land / folder).glob(f"{stem}_*"))
        assert len(files) >= 30, folder
        assert all(monthly.search(f.name) for f in files), folder

    cust = _json(out, "shop/customers/*.jsonl")
    assert set(_names("shop", "customers")) <= set(cust.columns)
    addr = [a for lst in cust["addresses"] for a in lst]
    assert addr and list(addr[0]) == _fields("shop", "customers", "addresses")
    assert list(cust["extension_attributes"].iloc[0]) == _fields(
        "shop", "customers", "extension_attributes"
    )
    orders = _json(out, "shop/orders/*.jsonl")
    assert set(_names("shop", "orders")) <= set(orders.columns)
    items = [i for lst in orders["items"] for i in lst]
    assert list(items[0]) == _fields("shop", "orders", "items")
    assert len({i["item_id"] for i in items}) == len(items)
    assert set(orders["status"]) <= {"complete", "processing", "canceled", "closed"}
    carts = _json(out, "shop/carts/*.jsonl")
    assert set(_names("shop", "carts")) <= set(carts.columns)

    db = sqlite3.connect(land / "pos" / "pos.sqlite")
    cols = {
        t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")]
        for t in ("stores", "loyalty_cards", "receipts", "receipt_lines")
    }
    assert cols["stores"] == _names("pos", "stores")
    assert cols["loyalty_cards"] == _names("pos", "loyalty_cards")
    assert cols["receipts"] == _names("pos", "receipts")
    assert cols["receipt_lines"] == _names("pos", "receipt_lines")
    n_stores = db.execute("SELECT count(*) FROM stores").fetchone()[0]
    assert 20 <= n_stores <= 30
    assert db.execute("SELECT count(*) FROM receipt_lines WHERE quantity < 0").fetchone()[0] > 0
    db.close()

    clients = _csvs(out, "clienteling/clients_*.csv")
    assert list(clients.columns) == _names("clienteling", "clients")
    assert clients["client_id"].duplicated().any()  # edits repeat a client with a newer updated_at
    assert clients["birth_date"].str.fullmatch(r"(\d{2}/\d{2}/\d{4})?").all()
    contacts = pd.read_csv(land / "esp" / "contacts.csv", dtype=str)
    assert list(contacts.columns) == _names("esp", "contacts")
    campaigns = pd.read_csv(land / "esp" / "campaigns.csv", dtype=str)
    assert list(campaigns.columns) == _names("esp", "campaigns")
    events = _json(out, "esp/events/*.jsonl")
    assert set(_names("esp", "events")) <= set(events.columns)
    assert set(events["event_type"]) == {
        "sent",
        "delivered",
        "open",
        "click",
        "bounce",
        "unsubscribe",
    }
    assert events["event_id"].is_unique

    web = pq.read_table(sorted((land / "web").glob("events_*.parquet"))[5])
    assert web.column_names == _names("web", "events")
    assert web.schema.field("occurred_at").type == pa.timestamp("us", tz="UTC")
    tickets = _csvs(out, "service/tickets_*.csv")
    assert list(tickets.columns) == _names("service", "tickets")
    # the headers config/sources.yaml maps to the declared columns, in the declared order
    sheets = load_sources_config(ROOT / "config" / "sources.yaml").sources["spreadsheets"]
    header = list(sheets.tables["event_signups"].column_mapping)
    xlsx = sorted((land / "spreadsheets").glob("*.xlsx"))
    latin = sorted((land / "spreadsheets").glob("*.csv"))
    assert xlsx and latin
    ws = openpyxl.load_workbook(xlsx[0], read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == header and len(rows) > 1
    sheet = pd.read_csv(latin[0], sep=";", encoding="latin-1", dtype=str)
    assert list(sheet.columns) == header
    with pytest.raises(UnicodeDecodeError):
        latin[0].read_bytes().decode("utf-8")  # really Latin-1 (accents are single bytes)
    consent = _json(out, "consent/*.jsonl")
    assert set(_names("consent", "consent_events")) <= set(consent.columns)
    assert (consent[["email", "phone", "shop_customer_id"]].notna().any(axis=1)).all()
    products = pd.read_csv(land / "catalog" / "products.csv", dtype=str)
    assert list(products.columns) == _names("catalog", "products")
    assert 400 <= len(products) <= 800
    assert set(products["category"]) == {
        "bags",
        "shoes",
        "ready_to_wear",
        "jewellery",
        "accessories",
        "beauty",
    }

    gt = out / "ground_truth"
    assert pq.read_schema(gt / "identity.parquet").names == [
        "source_system",
        "source_key",
        "person_id",
        "is_test",
    ]
    assert pq.read_schema(gt / "traps.parquet").names == [
        "trap_type",
        "source_system",
        "source_key",
        "person_id",
    ]
    persons = pd.read_parquet(gt / "persons.parquet")
    assert len(persons) == N and persons["person_id"].is_unique
    assert set(persons["profile"]) == {"loyal", "lapsing", "churned", "new", "one_off"}


def test_ground_truth_keys_are_the_records_written(demo):
    out, _ = demo
    land = out / "landing"
    ident = pd.read_parquet(out / "ground_truth" / "identity.parquet")
    keys = ident.groupby("source_system")["source_key"].apply(set).to_dict()
    cust = _json(out, "shop/customers/*.jsonl")
    assert keys["shop_customer"] == set(cust["entity_id"].astype(str))
    orders = _json(out, "shop/orders/*.jsonl")
    assert keys["shop_guest_order"] == set(orders.loc[orders["customer_is_guest"], "increment_id"])
    db = sqlite3.connect(land / "pos" / "pos.sqlite")
    assert keys["pos_card"] == {r[0] for r in db.execute("SELECT card_id FROM loyalty_cards")}
    db.close()
    assert keys["clienteling"] == set(_csvs(out, "clienteling/clients_*.csv")["client_id"])
    assert keys["esp_contact"] == set(
        pd.read_csv(land / "esp" / "contacts.csv", dtype=str)["contact_id"]
    )
    assert keys["service_ticket"] == set(_csvs(out, "service/tickets_*.csv")["ticket_id"])
    rows = set()
    for f in sorted((land / "spreadsheets").iterdir()):
        n = (
            sum(1 for _ in openpyxl.load_workbook(f, read_only=True).worksheets[0].iter_rows()) - 1
            if f.suffix == ".xlsx"
            else len(pd.read_csv(f, sep=";", encoding="latin-1", dtype=str))
        )
        rows |= {f"{f.name}#{i}" for i in range(1, n + 1)}
    assert keys["spreadsheet"] == rows
    web = duckdb.sql(
        f"SELECT anonymous_id, event_type, user_id FROM read_parquet('{land}/web/*.parquet')"
    ).df()
    logged_in = set(web.loc[web["event_type"] == "login", "anonymous_id"])
    assert logged_in <= keys["web_visitor"] <= set(web["anonymous_id"])
    assert len(set(web["anonymous_id"]) - keys["web_visitor"]) > 0  # never-identified visitors
    # every identified web visitor carries the shop account of its own person
    pairs = web.dropna(subset=["user_id"]).drop_duplicates(["anonymous_id", "user_id"])
    vis = ident[ident["source_system"] == "web_visitor"].set_index("source_key")["person_id"]
    acc = ident[ident["source_system"] == "shop_customer"].set_index("source_key")["person_id"]
    assert (pairs["anonymous_id"].map(vis) == pairs["user_id"].map(acc)).all()
    traps = pd.read_parquet(out / "ground_truth" / "traps.parquet")
    known = set(zip(ident["source_system"], ident["source_key"], strict=True))
    assert set(zip(traps["source_system"], traps["source_key"], strict=True)) <= known
    assert ident["person_id"].str.match(r"^(P\d{7}|TEST-\d+)$").all()
    assert (
        ident["is_test"].sum() > 0
        and (ident["is_test"] == ident["person_id"].str.startswith("TEST")).all()
    )


def test_planted_rates_duplicates_and_traps(demo):
    out, report = demo
    persons = pd.read_parquet(out / "ground_truth" / "persons.parquet")
    share = (persons["n_customer_record_systems"] >= 2).mean()
    assert 0.15 <= share <= 0.30
    assert report["measured"]["share_in_2plus_customer_record_systems"] == pytest.approx(
        share, abs=1e-3
    )
    assert 0.48 <= persons["in_shop"].mean() <= 0.62
    assert 0.38 <= persons["in_pos"].mean() <= 0.52
    assert 0.07 <= persons["in_clienteling"].mean() <= 0.13
    assert 0.52 <= persons["in_esp"].mean() <= 0.68
    assert 0.05 <= persons["in_service"].mean() <= 0.11
    assert 0.02 <= persons["in_spreadsheet"].mean() <= 0.06
    assert (persons["country"] == "FR").mean() > 0.6
    ident = pd.read_parquet(out / "ground_truth" / "identity.parquet")
    real = ident[~ident["is_test"]]
    per = real.groupby(["source_system", "person_id"]).size()
    shop_dups = (per.loc["shop_customer"] >= 2).mean()
    card_dups = (per.loc["pos_card"] >= 2).mean()
    assert 0.01 <= shop_dups <= 0.07 and 0.01 <= card_dups <= 0.07
    traps = pd.read_parquet(out / "ground_truth" / "traps.parquet")
    assert set(traps["trap_type"]) == {
        "shared_household_phone",
        "shared_household_address",
        "generic_store_email",
        "placeholder_email",
        "placeholder_phone",
        "homonym",
    }
    # a shared-household trap really joins different persons on one value
    hh = traps[traps["trap_type"] == "shared_household_phone"]
    assert hh["person_id"].nunique() >= 2
    noise = pd.read_parquet(out / "ground_truth" / "noise.parquet")
    kinds = set(noise["noise_type"])
    assert {
        "typo_swap",
        "typo_drop",
        "no_accent",
        "nickname",
        "first_last_swapped",
        "plus_addressing",
        "domain_typo",
        "old_address",
        "maiden_name",
        "duplicate_account",
        "duplicate_card",
        "anonymous_before_login",
        "number_lost_leading_zero",
    } <= kinds
    cards = ident[ident["source_system"] == "pos_card"]
    typos = noise[
        (noise["source_system"] == "pos_card") & noise["noise_type"].str.startswith("typo")
    ]
    assert 0.005 <= typos["source_key"].nunique() / len(cards) <= 0.12


def test_history_spans_three_years_and_stops_at_end_date(demo):
    out, _ = demo
    land = out / "landing"
    orders = _json(out, "shop/orders/*.jsonl")
    created = pd.to_datetime(orders["created_at"], utc=True)
    updated = pd.to_datetime(orders["updated_at"], utc=True)
    assert created.min() >= START_TS and updated.max() <= END_TS
    assert created.min() < START_TS + pd.Timedelta(
        days=45
    ) and created.max() > END_TS - pd.Timedelta(days=20)
    db = sqlite3.connect(land / "pos" / "pos.sqlite")
    sold = pd.to_datetime(
        pd.Series([r[0] for r in db.execute("SELECT sold_at FROM receipts")]), utc=True
    )
    db.close()
    assert sold.min() >= START_TS and sold.max() <= END_TS
    web = duckdb.sql(
        f"SELECT min(occurred_at), max(occurred_at) FROM read_parquet('{land}/web/*.parquet')"
    ).fetchall()[0]
    assert web[0] >= START_TS.to_pydatetime() and web[1] <= END_TS.to_pydatetime()
    for pattern in ("esp/events/*.jsonl", "consent/*.jsonl"):
        ev = _json(out, pattern)
        at = pd.to_datetime(ev["occurred_at"], utc=True)
        assert at.min() >= START_TS and at.max() <= END_TS, pattern
        # monthly files hold exactly their month
        month = ev["filename"].str.extract(r"_(\d{4}-\d{2})\.jsonl$")[0]
        assert (at.dt.strftime("%Y-%m") == month).all(), pattern
    tickets = _csvs(out, "service/tickets_*.csv")
    assert pd.to_datetime(tickets["created_at"], utc=True).max() <= END_TS


def test_churned_persons_stop_buying_and_loyal_ones_keep_buying(demo):
    out, _ = demo
    land = out / "landing"
    ident = pd.read_parquet(out / "ground_truth" / "identity.parquet")
    persons = pd.read_parquet(out / "ground_truth" / "persons.parquet").set_index("person_id")
    owner = ident.set_index(["source_system", "source_key"])["person_id"]
    orders = _json(out, "shop/orders/*.jsonl")
    web = pd.DataFrame(
        {
            "person_id": [
                owner.get(("shop_guest_order", inc))
                if guest
                else owner.get(("shop_customer", str(cid)))
                for inc, cid, guest in zip(
                    orders["increment_id"],
                    orders["customer_id"],
                    orders["customer_is_guest"],
                    strict=True,
                )
            ],
            "at": pd.to_datetime(orders["created_at"], utc=True),
        }
    )
    db = sqlite3.connect(land / "pos" / "pos.sqlite")
    rec = pd.read_sql(
        "SELECT card_id, sold_at FROM receipts WHERE is_return = 0 AND card_id IS NOT NULL", db
    )
    db.close()
    store = pd.DataFrame(
        {
            "person_id": rec["card_id"].map(lambda c: owner.get(("pos_card", c))),
            "at": pd.to_datetime(rec["sold_at"], utc=True),
        }
    )
    bought = pd.concat([web, store]).dropna()
    bought = bought[~bought["person_id"].str.startswith("TEST")]
    bought["churn_at"] = bought["person_id"].map(persons["churn_at"])
    churned = bought.dropna(subset=["churn_at"])
    assert len(churned) > 50
    assert (churned["at"] < churned["churn_at"]).all()
    recent = bought[bought["at"] > END_TS - pd.Timedelta(days=180)]
    active = recent["person_id"].map(persons["profile"]).value_counts(normalize=False)
    sizes = persons["profile"].value_counts()
    assert active.get("loyal", 0) / sizes["loyal"] > 3 * active.get("churned", 0) / sizes["churned"]


def test_cli_generate_prints_a_summary(tmp_path, capsys):
    from cli.main import main

    assert (
        main(
            [
                "generate",
                "--customers",
                "300",
                "--seed",
                "2",
                "--out",
                str(tmp_path),
                "--end-date",
                "2025-12-31",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "generated 300 persons" in text and "web" in text
    persons = pd.read_parquet(tmp_path / "ground_truth" / "persons.parquet")
    assert len(persons) == 300
    last = max(
        datetime.strptime(p.stem.split("_")[-1], "%Y-%m")
        for p in (tmp_path / "landing" / "web").iterdir()
    )
    assert last.replace(tzinfo=UTC).strftime("%Y-%m") == "2025-12"


def test_consent_covers_every_channel_under_the_purpose_activation_enforces(demo):
    """Activation sends only to marketing consent of the destination's channel: the demo
    grants it on every channel, and withdraws only under a (channel, purpose) that is granted."""
    out, _ = demo
    consent = _json(out, "consent/*.jsonl")
    counts = consent.groupby(["channel", "purpose", "status"]).size()
    grants = counts.xs("granted", level="status")
    withdrawals = counts.xs("withdrawn", level="status")
    for channel in ("email", "sms", "phone", "ads"):
        assert grants.get((channel, "marketing"), 0) > 0.03 * N, channel
    assert set(withdrawals.index) <= set(grants.index)
    assert (withdrawals / grants.reindex(withdrawals.index) < 0.2).all()
    # plausible opt-in rates: personalised ads and calls are rarer than e-mail
    assert grants[("ads", "marketing")] < grants[("email", "marketing")]
    assert grants[("phone", "marketing")] < grants[("sms", "marketing")]
    assert set(consent.loc[consent["channel"] == "phone", "source"]) == {
        "store",
        "preference_centre",
    }
    assert consent.loc[consent["channel"] == "phone", "phone"].notna().all()


def test_no_two_persons_share_a_mailbox():
    """A tie broken by a number must not recreate another address, dots and tags ignored."""
    local = pd.Series(["jean.bernard8"] * 6 + ["jean.bernard86", "jeanbernard86", "ana+x"])
    domain = pd.Series(["gmail.com"] * 9)
    emails = unique_mailboxes(local, domain)
    assert emails[0] == "jean.bernard8@gmail.com"
    keys = [e.split("@")[0].replace(".", "").split("+")[0] for e in emails]
    assert len(set(keys)) == len(keys)


def test_persons_own_distinct_mailboxes(demo):
    out, _ = demo
    persons = pd.read_parquet(out / "ground_truth" / "persons.parquet")
    addresses = pd.concat([persons["email"], persons["alt_email"]]).dropna().str.lower()
    local, domain = addresses.str.split("@", n=1).str[0], addresses.str.split("@", n=1).str[1]
    mailbox = local.str.replace(".", "", regex=False).str.split("+").str[0] + "@" + domain
    assert mailbox.is_unique
