"""What the profile page shows, checked against the serving snapshot of the session's `cdp demo`
run (tests/demo_build.py) through the app's HTTP stack (starlette's client): for persons
picked in the snapshot because they have each kind of content, every value the issue asks
for is on the page (golden record with source and date, contact points, consent with its
history, ids, scores with the model version, segments with entry and exit dates, abandoned
cart, each channel of the timeline, identity records and possible matches), and store staff
find identified customers only.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from markupsafe import escape

from app import accounts
from cdp.settings import get_settings
from tests.demo_build import use

PASSWORD = "a long test password"


@pytest.fixture(scope="module")
def demo(demo_build, tmp_path_factory):
    """(signed-in client per role, snapshot connection): the app reads a copy of the demo
    build's snapshot, where one segment membership has ended and one sync run has two failed
    records (a demo run materialises the segments on one day and its destinations accept
    every record: neither happens in it); its accounts and access log go to a private file."""
    from starlette.testclient import TestClient

    from app.web import create_app
    from cdp import serving

    assert demo_build.returncode == 0, demo_build.output
    folder = tmp_path_factory.mktemp("profile")
    snapshot = folder / "snapshot.duckdb"
    shutil.copy(serving.current_link(_settings_of(demo_build.data_dir)), snapshot)
    with duckdb.connect(str(snapshot)) as con:
        con.execute(
            """UPDATE activation.segment_membership SET exited_at = entered_at + INTERVAL 3 DAY
               WHERE (person_id, segment_name) = (SELECT (person_id, segment_name)
                   FROM activation.segment_membership ORDER BY person_id, segment_name LIMIT 1)"""
        )
        con.execute(
            """INSERT INTO activation.sync_failures (sync_name, key, operation, error, run_id,
                   failed_at)
               SELECT sync_name, unnest(['k-1', 'k-2']), 'upsert',
                      unnest(['HTTP 400: invalid email', 'HTTP 422: missing field']), run_id,
                      started_at
               FROM activation.sync_runs ORDER BY started_at, run_id LIMIT 1"""
        )
    (folder / serving.CURRENT_NAME).symlink_to(snapshot)
    with pytest.MonkeyPatch.context() as mp:
        use(mp, demo_build.data_dir)
        mp.setenv("CDP_SERVING_DIR", str(folder))
        mp.setenv("CDP_APP_DB", str(folder / "app.sqlite"))
        mp.setenv("CDP_APP_SECRET_KEY", "p" * 40)
        mp.setenv("CDP_APP_INSECURE_COOKIES", "1")
        settings = get_settings()
        clients = {}
        for user, role in (("ada", "admin"), ("sam", "store_staff")):
            accounts.add_user(settings, user, role, PASSWORD)
            client = TestClient(create_app(settings), follow_redirects=False)
            token = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/login").text)[1]
            form = {"username": user, "password": PASSWORD, "csrftoken": token}
            assert client.post("/login", data=form).status_code == 303
            clients[role] = client
        with serving.connect(settings) as con:
            yield clients, con


def _settings_of(data_dir: Path):
    with pytest.MonkeyPatch.context() as mp:
        use(mp, data_dir)
        return get_settings()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    rows = con.execute(sql).fetchall()
    assert rows, f"the demo has nobody for: {sql}"
    return rows[0]


def _section(html: str, section_id: str) -> str:
    """The HTML of one `<section id=...>` of the page."""
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def _page(client, person_id: str, channel: str | None = None) -> str:
    response = client.get(f"/person/{person_id}", params={"channel": channel} if channel else {})
    assert response.status_code == 200, response.status_code
    return response.text


def _cells(*values: object) -> str:
    """Consecutive table cells holding `values`, as the templates write them."""
    return "".join(f"<td>{escape(v)}</td>" for v in values)


def test_golden_record_ids_contact_points_and_consent(demo):
    clients, con = demo
    person_id, email, source, updated, shop_ids, cards = _one(
        con,
        """SELECT g.person_id, g.email, g.email_source, strftime(g.email_updated_at, '%Y-%m-%d'),
                  c.shop_customer_ids, c.loyalty_card_ids
           FROM intermediate.int_persons_golden g JOIN marts.customer_360 c USING (person_id)
           WHERE g.email IS NOT NULL AND len(c.shop_customer_ids) > 0
             AND len(c.loyalty_card_ids) > 0
             AND (SELECT count(*) FROM marts.consent_history h
                  WHERE h.person_id = g.person_id) >= 2
             AND (SELECT count(*) FROM intermediate.int_contact_points_resolved p
                  WHERE p.person_id = g.person_id) >= 2
           ORDER BY g.person_id LIMIT 1""",
    )
    html = _page(clients["admin"], person_id)
    assert f"<th>E-mail</th>{_cells(email, source, updated)}" in _section(html, "golden")
    ids = _section(html, "ids")
    for value in [*shop_ids, *cards]:
        assert str(escape(value)) in ids, value

    points = con.execute(
        "SELECT contact_point_type, contact_point_value FROM "
        "intermediate.int_contact_points_resolved WHERE person_id = ?",
        [person_id],
    ).fetchall()
    shown = _section(html, "contact-points")
    for kind, value in points:
        assert _cells(kind, value) in shown, (kind, value)

    consent = _section(html, "consent")
    for channel, purpose, granted in con.execute(
        "SELECT channel, purpose, is_granted FROM marts.customer_consent WHERE person_id = ?",
        [person_id],
    ).fetchall():
        status = "granted" if granted else "not granted"
        assert re.search(
            rf"<td>{channel}</td><td>{purpose}</td><td class=\"\w+\">{status}", consent
        )
    history = con.execute(
        "SELECT count(*) FROM marts.consent_history WHERE person_id = ?", [person_id]
    ).fetchall()[0][0]
    assert f"History ({history})" in consent
    assert consent.count("<tr>", consent.index("History")) == history


def test_scores_with_model_version_segments_with_dates_and_abandoned_cart(demo):
    clients, con = demo
    person_id, version, probability = _one(
        con,
        """SELECT person_id, model_version, round(churn_probability * 100)::INT
           FROM ml.churn_scores ORDER BY person_id LIMIT 1""",
    )
    scores = _section(_page(clients["admin"], person_id), "scores")
    assert f"<td>{probability} % (" in scores and str(escape(version)) in scores

    person_id, segment, entered, exited = _one(
        con,
        """SELECT person_id, segment_name, strftime(entered_at, '%Y-%m-%d'),
                  strftime(exited_at, '%Y-%m-%d')
           FROM activation.segment_membership WHERE exited_at IS NOT NULL
           ORDER BY person_id, segment_name LIMIT 1""",
    )
    segments = _section(_page(clients["admin"], person_id), "segments")
    assert f"{segment}</a></td><td>{entered}</td><td>{exited}</td>" in segments

    person_id, value = _one(
        con,
        """SELECT person_id, abandoned_cart_value FROM marts.customer_360
           WHERE has_open_abandoned_cart ORDER BY person_id LIMIT 1""",
    )
    assert f"Open abandoned cart: {float(value):,.2f} EUR" in _page(clients["admin"], person_id)
    (other,) = _one(
        con,
        "SELECT person_id FROM marts.customer_360 WHERE NOT has_open_abandoned_cart "
        "AND is_identified ORDER BY person_id LIMIT 1",
    )
    assert "No open abandoned cart." in _page(clients["admin"], other)


@pytest.mark.parametrize(
    "event_type",
    [
        "web_order",
        "store_purchase",
        "web_session",
        "campaign_open",
        "ticket_opened",
        "event_signup",
    ],
)
def test_timeline_filtered_on_a_channel_shows_that_channel_only(demo, event_type):
    """Orders (with their lines), store receipts, web sessions, e-mails (with the campaign's
    name), tickets and event sign-ups each appear under their channel's filter."""
    clients, con = demo
    person_id, channel = _one(
        con,
        f"""SELECT person_id, channel FROM marts.customer_timeline
            WHERE event_type = '{event_type}' ORDER BY occurred_at DESC, person_id LIMIT 1""",
    )
    timeline = _section(_page(clients["admin"], person_id, channel), "timeline")
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>", timeline)
    assert rows and {c for c, _ in rows} == {channel}, rows
    assert event_type.replace("_", " ") in {what for _, what in rows}
    if event_type == "web_order":
        assert '<ul class="lines"><li>' in timeline  # the order's lines
    if event_type == "campaign_open":
        (campaign,) = _one(
            con,
            f"""SELECT c.campaign_name FROM intermediate.int_campaign_events_attributed e
                JOIN staging.stg_esp__campaigns c USING (campaign_id)
                WHERE e.person_id = '{person_id}' LIMIT 1""",
        )
        assert f"<b>{escape(campaign)}</b>" in timeline


def test_identity_panel_shows_rules_scores_and_possible_matches(demo):
    clients, con = demo
    person_id, other, reason = _one(
        con,
        """SELECT person_id, other_person, reason FROM app.person_possible_matches
           ORDER BY person_id LIMIT 1""",
    )
    identity = _section(_page(clients["admin"], person_id), "identity")
    assert f'<a href="/person/{other}">{other}</a>' in identity
    assert reason.replace("_", " ") in identity
    for key, system, rule in con.execute(
        "SELECT source_key, source_system, match_rule FROM app.person_records WHERE person_id = ?",
        [person_id],
    ).fetchall():
        assert f"{_cells(key, system)}<td>{escape(rule or '')}" in identity


def test_store_staff_find_identified_customers_only(demo):
    """An anonymous visitor searched by its person id is listed for an admin, not for store
    staff (who cannot open the profile either)."""
    clients, con = demo
    (person_id,) = _one(
        con,
        "SELECT person_id FROM marts.customer_360 WHERE NOT is_identified ORDER BY person_id",
    )
    link = f'href="/person/{person_id}"'
    assert link in clients["admin"].get("/", params={"q": person_id}).text
    assert link not in clients["store_staff"].get("/", params={"q": person_id}).text
    assert clients["store_staff"].get(f"/person/{person_id}").status_code == 404


def test_a_sync_run_page_lists_its_failed_records_with_their_reasons(demo):
    clients, con = demo
    run_id, name = _one(
        con,
        "SELECT DISTINCT run_id, sync_name FROM activation.sync_failures ORDER BY run_id",
    )
    html = clients["admin"].get(f"/runs/{run_id}").text
    assert name in html and "<span>added</span>" in html and "<span>failed</span>" in html
    for key, operation, error in con.execute(
        "SELECT key, operation, error FROM activation.sync_failures WHERE run_id = ?", [run_id]
    ).fetchall():
        assert f"{_cells(key, operation, error)}<td>open</td>" in html
    assert clients["store_staff"].get(f"/runs/{run_id}").status_code == 403
