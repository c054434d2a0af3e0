"""The web app in a real Chromium (Debian's /usr/bin/chromium driven by Playwright; no browser
is downloaded), on the snapshot of a `cdp demo` run: sign in, typo-tolerant search, profile with
timeline and charts, segment and sync run pages, roles, and nothing personal when signed out.

With CI=true a missing Chromium fails the module instead of skipping it. With
CDP_APP_SCREENSHOTS=<folder> each page is saved there (docs/img/app-*.png come from this).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from app.cli import free_port, wait_until_listening
from tests.ci import missing_service
from tests.demo_build import environment

CHROMIUM = Path(os.environ.get("CDP_CHROMIUM", "/usr/bin/chromium"))
PASSWORD = "a long test password"
ROOT = Path(__file__).resolve().parents[2]

if not CHROMIUM.exists():
    missing_service(f"no Chromium at {CHROMIUM} (apt-get install chromium)", module=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_build):
    """A copy of the session's demo run (tests/demo_build.py), three accounts, and `cdp app`
    serving it."""
    assert demo_build.returncode == 0, demo_build.output
    data = demo_build.copy_to(tmp_path_factory.mktemp("app") / "data")
    env = {**environment(data), "CDP_APP_SECRET_KEY": "k" * 48}
    cdp = [sys.executable, "-m", "cli.main"]
    for user, role in (("ada", "admin"), ("mia", "marketing"), ("sam", "store_staff")):
        subprocess.run(
            [*cdp, "app", "user", "add", user, "--role", role, "--password-stdin"],
            input=PASSWORD + "\n",
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    port = free_port()
    server = subprocess.Popen([*cdp, "app", "--port", str(port)], env=env, cwd=ROOT)
    wait_until_listening(port, server)
    snapshot = os.path.realpath(data / "serving" / "serving.duckdb")
    yield {"url": f"http://127.0.0.1:{port}", "snapshot": snapshot, "data": data}
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


def _page(browser, site, user: str | None, viewport: tuple[int, int] = (1180, 820)):
    size = {"width": viewport[0], "height": viewport[1]}
    context = browser.new_context(viewport=size, base_url=site["url"], has_touch=True)
    page = context.new_page()
    if user:
        page.goto("/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/$"))
    return page


def _shot(page, name: str) -> None:
    folder = os.environ.get("CDP_APP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"app-{name}.png"), full_page=False)


def _customer(site) -> dict:
    """An identified demo customer with orders and e-mails, and a misspelling of their name."""
    with duckdb.connect(site["snapshot"], read_only=True) as con:
        person_id, first, last = con.execute(
            """SELECT c.person_id, c.first_name, c.last_name FROM marts.customer_360 c
               WHERE c.is_identified AND c.orders_count >= 2 AND length(c.last_name) >= 6
                 AND c.last_name NOT LIKE '% %' AND EXISTS (SELECT 1 FROM marts.customer_timeline t
                     WHERE t.person_id = c.person_id AND t.channel = 'email')
               ORDER BY c.orders_count DESC, c.person_id LIMIT 1"""
        ).fetchall()[0]
        anonymous = con.execute(
            "SELECT person_id FROM marts.customer_360 WHERE NOT is_identified LIMIT 1"
        ).fetchall()[0][0]
    typo = last[:2] + last[3] + last[2] + last[4:]  # two letters swapped
    return {"id": person_id, "first": first, "last": last, "typo": typo, "anonymous": anonymous}


def test_sign_in_search_a_misspelt_name_and_open_the_profile(browser, site):
    who = _customer(site)
    page = _page(browser, site, None)
    page.goto("/login")
    _shot(page, "login")
    page.fill("input[name=username]", "mia")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))

    page.fill("input[name=q]", f"{who['first']} {who['typo']}")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("#results")
    _shot(page, "search")
    link = page.locator(f"#results a[href='/person/{who['id']}']")
    assert link.count() == 1, f"{who['typo']!r} did not find {who['last']!r}"
    link.click()

    page.wait_for_selector("#person-name")
    assert who["last"] in page.inner_text("#person-name")
    for chart in ("chart-spend", "chart-categories", "chart-engagement"):
        page.wait_for_selector(f"#{chart}[data-rendered='1'] svg.main-svg")
    assert page.locator("table.timeline tbody tr").count() > 0
    assert page.locator("#identity table tbody tr").count() >= 1
    _shot(page, "profile")

    page.click("nav.filters a:text-is('email')")
    page.wait_for_url(re.compile(r"channel=email"))
    channels = page.locator("table.timeline tbody tr td:nth-child(2)").all_inner_texts()
    assert channels and set(channels) == {"email"}
    assert page.locator("table.timeline tbody td b").count() > 0  # campaign names, not event ids
    _shot(page, "timeline-email")


def test_segment_page_and_sync_run_page(browser, site):
    page = _page(browser, site, "mia")
    page.goto("/segments")
    counts = page.locator("table.results tbody tr td.num").all_inner_texts()
    row = next(i for i, n in enumerate(counts) if n.isdigit() and int(n) > 0)
    page.locator("table.results tbody tr a").nth(row).click()
    page.wait_for_selector("#segment-name")
    page.wait_for_selector("#chart-segment-size[data-rendered='1'] svg.main-svg")
    assert page.locator("table.results tbody tr").count() > 0
    _shot(page, "segment")

    page.goto("/syncs")
    page.locator("table.results tbody tr a").first.click()
    page.wait_for_selector("#sync-name")
    page.locator("table.results tbody tr a").first.click()
    page.wait_for_selector("#run-title")
    stats = page.inner_text(".stats")
    for label in ("added", "changed", "removed", "failed"):
        assert label in stats
    _shot(page, "sync-run")


def test_store_staff_cannot_open_admin_pages_nor_anonymous_profiles(browser, site):
    who = _customer(site)
    page = _page(browser, site, "sam")
    response = page.goto("/admin")
    assert response.status == 403
    assert "Not allowed" in page.content()
    assert page.goto("/segments").status == 403
    assert page.goto(f"/person/{who['anonymous']}").status == 404
    assert page.goto(f"/person/{who['id']}").status == 200
    _shot(page, "store-staff-profile")

    admin = _page(browser, site, "ada")
    admin.goto("/admin")
    log = admin.inner_text("#admin-title ~ section:nth-of-type(2)")
    assert who["id"] in log and "sam" in log  # the store staff's visit is logged...
    assert who["last"] not in log  # ...by person id: no personal data in the log
    _shot(admin, "admin")


def test_signed_out_requests_get_no_personal_data(browser, site):
    who = _customer(site)
    page = _page(browser, site, None)
    for path in (f"/person/{who['id']}", f"/?q={who['last']}", "/segments", "/runs/x"):
        response = page.request.get(site["url"] + path, max_redirects=0)
        assert response.status in (303, 307), path
        body = response.text()
        assert who["last"] not in body and who["id"] not in body
    page.goto(f"/person/{who['id']}")
    assert page.url.startswith(site["url"] + "/login")
    assert who["last"] not in page.content()


@pytest.mark.parametrize("viewport", [(768, 1024), (1024, 768)], ids=["portrait", "landscape"])
def test_pages_fit_a_tablet_screen(browser, site, viewport):
    """On a tablet (portrait and landscape) nothing is wider than the screen, the profile's
    cards stack in one column in portrait, and controls are touch-sized (44 px)."""
    who = _customer(site)
    page = _page(browser, site, "sam", viewport)
    page.goto("/?q=" + who["last"])
    heights = page.evaluate(
        "[...document.querySelectorAll('main input, main button')]"
        ".map(e => e.getBoundingClientRect().height)"
    )
    assert len(heights) == 2 and min(heights) >= 44, heights  # the search box and its button
    for path in ("/?q=" + who["last"], f"/person/{who['id']}"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport[0], (path, width)
    lefts = page.evaluate(
        "[...document.querySelectorAll('.grid > .card')].map(c => c.getBoundingClientRect().x)"
    )
    assert len(lefts) >= 4 and (len(set(lefts)) == 1) == (viewport[0] < 900), lefts
    if viewport[0] < 900:
        _shot(page, "tablet-profile")
