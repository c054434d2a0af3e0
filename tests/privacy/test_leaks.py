"""Personal data stays out of the places nobody reviews: GE store and Data Docs, reasons,
CSV exports (formula injection), webhook signatures (replay), clear-text transport."""

from __future__ import annotations

import duckdb
import pytest

from activation.destinations.files import csv_bytes
from activation.destinations.webhook import Webhook, sign, verify
from cdp.pii import mask_free_text
from data_quality.config import load_config
from data_quality.runner import run_suites
from data_quality.suites import get_suite
from tests.data_quality.dq_fixtures import NOW, make_raw_shop


def test_ge_store_and_data_docs_hold_no_failing_personal_value(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        make_raw_shop(con, bad=True)
        con.execute(
            "UPDATE raw_shop.customers SET email = 'marie.dupont@@gmail.com', "
            "dob = '2031-02-03' WHERE entity_id = 3"
        )
        [customers] = run_suites(
            con,
            [get_suite("raw_shop.customers")],
            config=load_config(),
            now=NOW,
            gx_root=tmp_path / "quality",
        )
    failing = {r.check_id: r for r in customers.results if not r.success}
    assert "email_email_format" in failing  # the check did fail on the planted value
    # the in-run sample is masked but keeps the shape
    assert failing["email_email_format"].failing_rows[0]["email"].startswith("m***")
    files = [p for p in (tmp_path / "quality").rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files) and any(p.suffix == ".json" for p in files)
    for p in files:
        text = p.read_text(errors="ignore")
        assert "dupont" not in text.lower(), p
        assert "anne@example.fr" not in text, p


def test_free_text_masks_names_dates_streets_phones_and_emails():
    text = "Marie DUPONT, née le 12/03/1985, 12 rue de la Paix, tel +33 6 12 34 56 78, m.d@x.fr"
    masked = mask_free_text(text)
    for secret in ("Marie", "DUPONT", "1985", "Paix", "56 78", "m.d@"):
        assert secret not in masked
    assert "[street]" in masked and "[date]" in masked and "***@x.fr" in masked


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', "'=HYPERLINK"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        ("+33612345678", "+33612345678"),
        ("-12.5", "-12.5"),
        ("plain", "plain"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(value, written):
    out = csv_bytes(["k"], [[value]]).decode().splitlines()[1]
    assert out.lstrip('"').startswith(written)


def test_webhook_signature_covers_timestamp_and_body_within_tolerance():
    body = b'{"records":[]}'
    header = sign("s3cret", body, timestamp=1_000_000)
    assert verify("s3cret", body, header, now=1_000_100)
    assert not verify("s3cret", body, header, now=1_000_000 + 301)  # replayed too late
    assert not verify("s3cret", body + b" ", header, now=1_000_000)  # body changed
    forged = header.replace("t=1000000", "t=1000200")  # a fresh timestamp on an old signature
    assert not verify("s3cret", body, forged, now=1_000_200)
    assert not verify("other", body, header, now=1_000_000)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.example.com/cdp", True),
        ("http://127.0.0.1:8080/hook", True),
        ("http://localhost:8080/hook", True),
        ("http://hooks.example.com/cdp", False),
        ("ftp://hooks.example.com/cdp", False),
    ],
)
def test_http_destinations_require_https_except_loopback(url, ok):
    options = {"url": url, "secret_env": "X", "channel": "email"}
    if ok:
        Webhook.validate_options(options)
    else:
        with pytest.raises(ValueError, match="https"):
            Webhook.validate_options(options)
