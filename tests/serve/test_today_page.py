"""The today page in a real browser: headless Chromium (Debian's `chromium`) loads it from `vixshield
serve`, the DOM holds the plan, the hedge layers and the charts, the console stays clean, and a
phone-sized screenshot is taken into the test's temp dir."""

import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.serve.helpers import running
from vixshield.serve import publish

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with console messages logged to stderr (lines with ':CONSOLE')."""
    profile = tmp_path / "profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args, url]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@needs_chromium
def test_console_errors_are_caught_by_the_check(tmp_path):
    """The check below can fail: a page that logs an error and throws shows up in it."""
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><p>x</p><script>console.error("broken"); missing();</script></body></html>')
    out = chromium(tmp_path, bad.as_uri(), "--dump-dom")
    lines = console_lines(out.stderr)
    assert any("broken" in line for line in lines) and any("missing is not defined" in line for line in lines)


@needs_chromium
def test_the_today_page_in_headless_chromium(tmp_path, built):
    home = tmp_path / "home"
    shutil.copytree(built.home / "published", home / "published")
    with duckdb.connect(str(built.home / "warehouse.duckdb"), read_only=True) as conn:
        day = conn.execute("SELECT max(date) FROM signals.condor_plan").fetchone()[0]
        legs = "SELECT occ_symbol FROM signals.condor_legs WHERE date = ? AND source = 'plan'"
        symbols = [r[0] for r in conn.execute(legs, [day]).fetchall()]
        regime = conn.execute("SELECT regime FROM features.regime WHERE date = ?", [day]).fetchone()[0]
    assert len(symbols) == 4
    with running(home) as url:
        dom = chromium(tmp_path, url + "/", "--dump-dom")
        shot = tmp_path / "today.png"
        pic = chromium(tmp_path, url + "/", f"--screenshot={shot}", "--window-size=412,2600", "--hide-scrollbars")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert f"VixShield today: {day}" in html
    for section in ("regime", "plan", "positions", "hedges", "tickets", "term", "spx", "freshness"):
        assert f'id="{section}"' in html, section
    assert regime in html
    for symbol in symbols:  # the plan's legs with their OCC symbols
        assert symbol.replace(" ", "&nbsp;") in html or symbol in html, symbol
    hedges = html[html.index('id="hedges"') : html.index('id="tickets"')]
    assert all(f"<td>{layer}</td>" in hedges for layer in ("L0", "L1", "L2")) and "VIX" in hedges
    charts = re.findall(r"<svg[^>]*>.*?</svg>", html, flags=re.S)
    assert len(charts) == 2 and all("<polyline" in c for c in charts)
    assert "<rect" in charts[1]  # the regime shading behind a year of SPX
    assert "http://" not in html.replace(url, "").replace("http://www.w3.org/2000/svg", "")  # nothing external
    assert console_lines(dom.stderr) == []
    assert pic.returncode == 0 and shot.stat().st_size > 10_000, pic.stderr[-2000:]
    assert console_lines(pic.stderr) == []


def test_every_publish_writes_the_page_beside_the_snapshot(built):
    page = publish.published_dir(built.home) / publish.PAGE
    manifest = publish.read_manifest(built.home)
    assert publish.PAGE in manifest["files"] and publish.verify(built.home) == []
    text = page.read_text()
    assert text.startswith("<!doctype html>") and 'id="plan"' in text and "<script" not in text
    assert manifest["run_id"] in text


def test_open_condors_are_the_book_s_and_closed_ones_are_listed_apart(built):
    """The Open condors lists hold exactly the condors the book still carries after each session (its own
    count, book_daily.open_condors, is the independent witness); a condor closed or settled on the
    session is listed under "Closed today" instead, on the page and in the terminal plan."""
    from vixshield.serve import plan_text, plans, today
    from vixshield.strategy import signals

    with duckdb.connect(str(built.home / "warehouse.duckdb"), read_only=True) as conn:
        counts = dict(conn.execute("SELECT date, open_condors FROM signals.book_daily").fetchall())
        rows = conn.execute("SELECT * FROM signals.condor_actions").df().to_dict("records")
        closes = conn.execute(
            "SELECT date, position_id FROM signals.condor_actions WHERE action = 'close' ORDER BY date LIMIT 1"
        ).fetchone()
        assert closes is not None, "the sample history closes no condor: nothing to check"
        day, closed = closes
        section = today._positions(conn, day)
        text = plan_text.render(signals.plan_for(conn, str(day)))
    held = {d: 0 for d in counts}
    for r in rows:
        held[r["date"].date()] += plans.still_open(r)
    assert {d: n for d, n in held.items() if n != counts[d]} == {}
    page_held, _, page_gone = section.partition("<h3>Closed today</h3>")
    assert closed in page_gone and closed not in page_held
    text_held, _, text_gone = text.partition("Closed today")
    assert closed in text_gone and closed not in text_held
