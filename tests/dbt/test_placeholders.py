"""Placeholder e-mails and phones have one declaration, the identity blocklist of
config/identity.yaml: the dbt staging flag (UDF cdp_is_placeholder) and the identity engine
read it, and agree value by value."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd

from cdp import normalize as nz
from cdp.settings import PROJECT_ROOT
from dbt_project.plugins.cdp_udfs import register
from identity import load_config
from identity.deterministic import _apply_blocklists

EMAILS = [
    "test@test.com",
    "noemail@gmail.com",
    "customer@shop.fr",
    "jean@mail.com",
    "x@yopmail.com",
    "do-not-reply@maison.fr",
    "marie.dupont@gmail.com",
    "paul.durand@orange.fr",
]
PHONES = ["+33600000000", "+33611111111", "+4477777777", "+33602030405", "+33647213895"]


def _flags(values: list[str], id_type: str) -> list[bool]:
    with duckdb.connect() as con:
        register(con)
        return [
            con.execute("select cdp_is_placeholder(?, ?)", [value, id_type]).fetchone()[0]
            for value in values
        ]


def _engine_blocks(values: list[str], id_type: str) -> list[bool]:
    table = pd.DataFrame(
        {"rec": range(len(values)), "id_type": id_type, "value": values, "alt": values}
    )
    kept = set(_apply_blocklists(table, load_config(), [])["value"])
    return [value not in kept for value in values]


def test_staging_flag_and_identity_blocklist_agree() -> None:
    assert _flags(EMAILS, "email") == _engine_blocks(EMAILS, "email")
    assert _flags(PHONES, "phone") == _engine_blocks(PHONES, "phone")
    assert _flags(EMAILS, "email") == [True] * 6 + [False] * 2
    assert _flags(PHONES, "phone") == [True] * 4 + [False]


def test_the_flag_follows_the_identity_config(tmp_path, monkeypatch) -> None:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    identity = config / "identity.yaml"
    identity.write_text(
        identity.read_text().replace(
            "      - contact@contact.com\n", "      - paul.durand@orange.fr\n"
        )
    )
    monkeypatch.setenv("CDP_CONFIG_DIR", str(config))
    assert _flags(["paul.durand@orange.fr", "contact@contact.com"], "email") == [True, False]


def test_a_column_is_flagged_as_each_value_alone() -> None:
    """The UDF takes a whole column at once (vectorised), mixed kinds and nulls included."""
    values = [*EMAILS, *PHONES, None]
    kinds = ["email"] * len(EMAILS) + ["phone"] * len(PHONES) + ["email"]
    with duckdb.connect() as con:
        register(con)
        table = pd.DataFrame({"v": values, "k": kinds}, dtype=object).reset_index()
        con.register("t", table)
        rows = con.execute("select cdp_is_placeholder(v, k) from t order by index").fetchall()
        column = [flag for (flag,) in rows]
    assert column == [*_flags(EMAILS, "email"), *_flags(PHONES, "phone"), None]


def test_a_large_column_takes_the_vectorised_path_with_the_same_answers() -> None:
    """Over 500 new values in one batch go through the `*_series` normalisers at once; the
    flags and the E.164 numbers are those of the value-by-value rule."""
    phones = [f"06 {i // 100:02d} {i % 100:02d} {i % 7}{i % 10} 11" for i in range(700)]
    phones += ["06 11 11 11 11", "+33 6 00 00 00 12", "0033612345678", "612345678.0", "12"]
    emails = [f"client{i}@{'gmail' if i % 2 else 'yopmail'}.com" for i in range(700)]
    emails += ["no@mail.com", "x@orange.fr", "Jean.Dupont+promo@GMAIL.com"]
    with duckdb.connect() as con:
        register(con)
        for values, kind in ((phones, "phone"), (emails, "email")):
            table = pd.DataFrame({"v": values}, dtype=object).reset_index()
            con.register("t", table)
            rows = con.execute(
                f"select cdp_is_placeholder(v, '{kind}'), cdp_normalize_phone(v, 'FR') "
                "from t order by index"
            ).fetchall()
            assert [flag for flag, _ in rows] == _flags(values, kind)
            assert [e164 for _, e164 in rows] == [nz.normalize_phone(v, "FR") for v in values]
            assert any(flag for flag, _ in rows) and not all(flag for flag, _ in rows)
            con.unregister("t")
