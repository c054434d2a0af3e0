"""Placeholder e-mails and phones have one declaration, the identity blocklist of
config/identity.yaml: the dbt staging flag (UDF cdp_is_placeholder) and the identity engine
read it, and agree value by value."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd

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
