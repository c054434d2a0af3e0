"""`cdp resolve` on small messy CSV files."""

from __future__ import annotations

import pandas as pd

from cli.main import main


def _resolve(src, out, options: str) -> int:
    """`cdp resolve SRC --out OUT` with the column options (names without spaces)."""
    return main(["resolve", str(src), "--out", str(out), *options.split()])


def test_resolve_latin1_semicolon_numbers_and_dates(tmp_path, capsys):
    text = (
        "Nom;Prénom;Mail;Tél;Naissance;CP;Ville;Pays\n"
        "Dupont;Hélène;helene.dupont@gmail.com;612345670;12/03/1985;1000;Bourg-en-Bresse;France\n"
        "DUPONT;Helene;;06 12 34 56 70;19850312;01000;BOURG EN BRESSE;FR\n"
        "Lefèvre;Zoé;zoe@free.fr;;;;;\n"
        "Lefèvre;Zoë;ZOE@FREE.FR;;;;;\n"
        "Martin;Paul;;;;;;\n"
    )
    src = tmp_path / "in.csv"
    src.write_bytes(text.encode("latin-1"))
    out = tmp_path / "out.csv"
    rc = _resolve(
        src,
        out,
        "--id Nom --first-name Prénom --last-name Nom --email Mail --phone Tél"
        " --birth-date Naissance --postcode CP --city Ville --country Pays",
    )
    assert rc == 0
    result = pd.read_csv(out, dtype=str)
    assert list(result.columns) == ["record_id", "person_id"]
    assert result["record_id"].tolist() == ["Dupont", "DUPONT", "Lefèvre", "Lefèvre", "Martin"]
    pid = result["person_id"].tolist()
    assert pid[0] == pid[1]  # phone lost its zero + DD/MM/YYYY vs YYYYMMDD
    assert pid[2] == pid[3]
    assert len(set(pid)) == 3
    printed = capsys.readouterr().out
    assert "records: 5" in printed and "persons: 3" in printed and "time:" in printed


def test_resolve_utf8_comma_full_name_keys_and_addresses(tmp_path, capsys):
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "name": ["GARNIER Sophie", "Sophie Garnier", "Paul Roux", "Jean Roux"],
            "card": ["C1", None, "C1", None],
            "line1": ["12 bd Voltaire", "12 boulevard Voltaire", None, None],
            "line2": ["Apt 3", None, None, None],
            "zip": [75011, 75011, None, None],
            "dob": ["1980-05-05", "05/05/1980", None, None],
        }
    )
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    out = tmp_path / "out.csv"
    rc = _resolve(
        src,
        out,
        "--id id --full-name name --address line1 --address line2 --postcode zip"
        " --birth-date dob --key card",
    )
    assert rc == 0
    pid = pd.read_csv(out, dtype=str)["person_id"].tolist()
    assert pid[0] == pid[1]  # probabilistic: name order, address abbreviations, date formats
    assert pid[0] == pid[2]  # exact key C1
    assert pid[3] not in pid[:3]


def test_resolve_reports_missing_column(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("a,b\n1,2\n")
    rc = main(
        ["resolve", str(src), "--out", str(tmp_path / "o.csv"), "--id", "a", "--email", "mail"]
    )
    assert rc == 2
    assert "mail" in capsys.readouterr().err
