"""Right to erasure inside the warehouse: every copy of the person goes, nobody else's row
changes, the identifiers are suppressed (hashed), `--dry-run` deletes nothing.

Property-tested over generated persons (hypothesis) on a warehouse shaped like the real one:
raw rows with identifiers written as people type them, identity records and graph, marts,
scores, activation state and quarantine rows."""

from __future__ import annotations

import duckdb
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activation.erasures import ERASURES
from cli.main import main
from privacy.erase import erase
from privacy.subjects import Subject
from tests.privacy.person_warehouse import JEAN, MARIE, build

TABLES_SQL = (
    "SELECT table_schema, table_name FROM information_schema.tables "
    "WHERE table_schema NOT IN ('privacy') ORDER BY 1, 2"
)


def _dump(con) -> dict[str, pd.DataFrame]:
    return {
        f"{s}.{t}": con.execute(f'SELECT * FROM "{s}"."{t}" ORDER BY ALL').df()
        for s, t in con.execute(TABLES_SQL).fetchall()
    }


def _text(con) -> str:
    return "\n".join(f.to_csv() for f in _dump(con).values()).lower()


def _add_raw_and_quarantine(con, people) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw_shop; CREATE SCHEMA IF NOT EXISTS quality")
    con.execute(
        "CREATE TABLE IF NOT EXISTS raw_shop.customers (entity_id VARCHAR, email VARCHAR, "
        "telephone VARCHAR)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS quality.quarantine_rows (row_id VARCHAR, raw_record JSON)"
    )
    for p in people:
        national = "0" + p["phone"][3:5] + " " + p["phone"][5:7] + " " + p["phone"][7:]
        con.execute(
            "INSERT INTO raw_shop.customers VALUES (?, ?, ?)",
            [p["person_id"], "  " + p["email"].upper(), national],
        )
        con.execute(
            "INSERT INTO quality.quarantine_rows VALUES (?, ?)",
            [p["person_id"], f'{{"tel": "{national}", "note": "x"}}'],
        )


def _build_people(con, people) -> None:
    con.execute("CREATE SCHEMA identity; CREATE SCHEMA intermediate; CREATE SCHEMA marts")
    con.execute("CREATE SCHEMA activation")
    frame = pd.DataFrame(people)
    con.register("people", frame)
    con.execute(
        "CREATE TABLE intermediate.int_identity_records_unioned AS "
        "SELECT 'shop_customer:' || person_id AS record_id, email, phone FROM people"
    )
    con.execute(
        "CREATE TABLE identity.identity_graph AS "
        "SELECT 'shop_customer:' || person_id AS record_id, person_id FROM people"
    )
    con.execute("CREATE TABLE marts.orders AS SELECT person_id, 10.0 AS net_amount FROM people")
    con.execute(
        "CREATE TABLE activation.sync_state AS SELECT 'hubspot' AS sync_name, email AS key "
        "FROM people"
    )
    con.unregister("people")
    _add_raw_and_quarantine(con, people)


@st.composite
def populations(draw):
    n = draw(st.integers(2, 6))
    local = st.from_regex(r"[a-z]{3,8}\.[a-z]{2,8}", fullmatch=True)
    emails = draw(st.lists(local, min_size=n, max_size=n, unique=True))
    digits = draw(
        st.lists(st.integers(10_000_000, 99_999_999), min_size=n, max_size=n, unique=True)
    )
    people = [
        {"person_id": f"P{i}", "email": f"{e}@example.fr", "phone": f"+336{d}"}
        for i, (e, d) in enumerate(zip(emails, digits, strict=True))
    ]
    victim = draw(st.integers(0, n - 1))
    by = draw(st.sampled_from(["email", "phone", "person_id"]))
    return people, victim, by


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(populations())
def test_erasure_leaves_no_identifier_and_others_unchanged(tmp_path_factory, case):
    people, victim, by = case
    target = people[victim]
    db = tmp_path_factory.mktemp("erase") / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        _build_people(con, people)
        before = _dump(con)
        subject = Subject.from_values(**{by: target[by]})
        dry = erase(con, subject, "dry", db.parent, dry_run=True)
        assert _dump(con).keys() == before.keys()
        assert all(_dump(con)[k].equals(before[k]) for k in before)  # dry run: nothing gone
        done = erase(con, subject, "r1", db.parent)
        assert done.deleted == dry.deleted and done.persons == [target["person_id"]]
        # the one copy kept: the key the destination holds, until it confirms the deletion
        owed = con.execute(f"SELECT sync_name, key, status FROM {ERASURES}").fetchall()
        assert owed == [("hubspot", target["email"], "pending")] and done.queued == 1
        con.execute(f"UPDATE {ERASURES} SET key = NULL, status = 'confirmed'")
        text = _text(con)
        after = _dump(con)
        suppressed = con.execute("SELECT identifier_kind FROM privacy.suppressions").fetchall()
    assert target["email"] not in text and target["phone"][-9:] not in text.replace(" ", "")
    assert f"shop_customer:{target['person_id'].lower()}," not in text
    # the identifiers, and the key of their shop record (raw rows are found by it too)
    assert sorted(k for (k,) in suppressed) == ["email", "key:shop_customer", "person_id", "phone"]
    for table, frame in before.items():
        others = frame.astype(str).apply(
            lambda r: (
                not any(
                    v.strip().lower().endswith(target["email"])
                    or v in (target["person_id"], f"shop_customer:{target['person_id']}")
                    or target["phone"][-8:] in v.replace(" ", "")
                    for v in r
                )
            ),
            axis=1,
        )
        kept = frame[others].reset_index(drop=True)
        assert kept.astype(str).equals(after[table].astype(str).reset_index(drop=True)), table


def test_erase_cli_dry_run_then_erase(settings_env):
    db = settings_env.warehouse
    with duckdb.connect(str(db)) as con:
        build(con)
        _add_raw_and_quarantine(con, [MARIE, JEAN])
    assert main(["privacy", "erase", "--email", MARIE["email"], "--dry-run"]) == 0
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM marts.orders").fetchall()[0][0] == 3
    assert main(["privacy", "erase", "--email", MARIE["email"]]) == 0
    with duckdb.connect(str(db)) as con:
        owed = con.execute(f"SELECT key, status FROM {ERASURES}").fetchall()
        assert owed == [(MARIE["email"], "pending")]  # until HubSpot confirms the deletion
        con.execute(f"UPDATE {ERASURES} SET key = NULL, status = 'confirmed'")
        text = _text(con)
        steps = con.execute("SELECT kind, status, steps FROM privacy.requests").fetchall()
        assert con.execute("SELECT count(*) FROM marts.orders").fetchall()[0][0] == 1
    assert "marie" not in text and "12345678" not in text.replace(" ", "")
    assert "jean.martin@example.fr" in text
    assert steps[0][:2] == ("erase", "done") and "1 person(s)" in steps[0][2]


def test_erasure_republishes_the_serving_snapshot_and_deletes_the_older_ones(settings_env):
    from cdp import serving

    with duckdb.connect(str(settings_env.warehouse)) as con:
        build(con)
        for column in ("last_name", "phone"):  # what the app's search index reads
            con.execute(f"ALTER TABLE marts.customer_360 ADD COLUMN {column} VARCHAR")
        for column in ("loyalty_card_ids", "shop_customer_ids", "clienteling_ids"):
            con.execute(f"ALTER TABLE marts.customer_360 ADD COLUMN {column} VARCHAR[]")
        con.execute("ALTER TABLE marts.customer_360 ADD COLUMN esp_contact_ids VARCHAR[]")
        con.execute("ALTER TABLE marts.customer_360 ADD COLUMN is_identified BOOLEAN DEFAULT true")
        con.execute("ALTER TABLE marts.orders ADD COLUMN source_order_id VARCHAR")
        for column in ("source_system", "source_key", "match_rule"):  # the app's person tables
            con.execute(f"ALTER TABLE identity.identity_graph ADD COLUMN {column} VARCHAR")
        for table in ("identity_edges", "possible_matches"):
            con.execute(
                f"CREATE TABLE identity.{table} (record_id_a VARCHAR, record_id_b VARCHAR, "
                "rule VARCHAR, score DOUBLE, reason VARCHAR)"
            )
    first = serving.publish(settings_env)
    second = serving.publish(settings_env)
    with duckdb.connect(str(first), read_only=True) as snap:
        assert MARIE["email"] in _text(snap)
    assert main(["privacy", "erase", "--email", MARIE["email"]]) == 0
    assert not first.exists() and not second.exists()
    with serving.connect(settings_env) as snap:
        served = _text(snap)
    assert MARIE["email"] not in served and JEAN["email"] in served


def test_erasure_deletes_the_model_versions_that_hold_the_person(tmp_path):
    """A model artifact that keeps its users' ids (recommendations) goes whole; others stay.
    Found by the end-to-end test: the version trained before the erasure still held them."""
    models = tmp_path / "models" / "recommendations"
    (models / "v1").mkdir(parents=True)
    (models / "v2").mkdir()
    (models / "v1" / "model.joblib").write_bytes(b"\x80\x04users\x94P1\x94P2")
    (models / "v2" / "model.joblib").write_bytes(b"\x80\x04users\x94P2")
    (models / "LATEST").write_text('{"version": "v2"}')
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        build(con)
        dry = erase(con, Subject.from_values(person_id="P1"), "dry", tmp_path, dry_run=True)
        assert dry.deleted["files"] == 1 and (models / "v1").exists()
        erase(con, Subject.from_values(person_id="P1"), "r1", tmp_path)
    assert not (models / "v1").exists() and (models / "v2" / "model.joblib").exists()
    assert (models / "LATEST").exists()


def test_erasure_deletes_the_models_shared_inputs_of_the_warehouse(tmp_path):
    """The models' inputs written beside the warehouse for a run (ml/inputs.py) hold every
    buyer: an erasure deletes the file (the next run writes it again); another warehouse's
    file stays."""
    inputs, other = tmp_path / "w.ml_inputs.duckdb", tmp_path / "x.ml_inputs.duckdb"
    for path in (inputs, other):
        path.write_bytes(b"P1")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        build(con)
        dry = erase(con, Subject.from_values(person_id="P1"), "dry", tmp_path, dry_run=True)
        assert dry.deleted["files"] == 1 and inputs.exists()
        erase(con, Subject.from_values(person_id="P1"), "r1", tmp_path)
    assert not inputs.exists() and other.exists()


def test_erasure_rewrites_a_recommendation_model_without_the_person(tmp_path):
    """A model that can drop persons is rewritten, not deleted: the latest version still
    verifies and recommends for everyone else, and holds nothing of the erased person."""
    from datetime import date

    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
    from implicit.als import AlternatingLeastSquares

    from ml.artifact import load_named, save_named
    from ml.recommend import FALLBACK, PERSONAL, Interactions, Recommender

    users = pd.Index([f"P{i}" for i in range(1, 7)])
    items = pd.Index(["A", "B", "C", "D"])
    rows, cols = np.divmod(np.arange(24), 4)
    weights = (np.arange(24) % 3 + 1).astype(np.float32)
    matrix = sp.csr_matrix((weights, (rows, cols)), shape=(6, 4))
    als = AlternatingLeastSquares(factors=2, iterations=2, random_state=1, num_threads=1)
    als.fit(matrix, show_progress=False)
    model = Recommender(
        date(2026, 1, 1), "als", {}, Interactions(users, items, matrix),
        pd.Series([0.5, 0.3, 0.2, 0.1], index=items), als,
    )  # fmt: skip
    models = tmp_path / "models"
    folder = save_named(models, "recommendations", "recommendations-v1", model, {})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        build(con)
        erase(con, Subject.from_values(person_id="P2"), "r1", tmp_path)
    assert b"P2" not in (folder / "model.joblib").read_bytes()
    kept, card = load_named(models, "recommendations")  # SHA-256 verified
    assert card["rewritten"] == ["erasure"]
    assert list(kept.interactions.users) == ["P1", "P3", "P4", "P5", "P6"]
    assert kept.model.user_factors.shape[0] == 5
    np.testing.assert_allclose(kept.model.user_factors[1], als.user_factors[2])
    recs = kept.recommend(pd.Index(["P4", "P2"]), 2)
    assert set(recs["customer_id"]) == {"P4", "P2"}  # P2 now gets the popularity fallback
    reasons = recs.groupby("customer_id")["reason"].agg(set)
    assert reasons["P2"] == {FALLBACK} and f"{PERSONAL}:als" in reasons["P4"]
