"""The HTML diff opens in headless Chromium without errors, and shows the changed values."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.helpers import run_cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def html_diff(old: Path, new: Path, out: Path) -> Path:
    run = run_cli("diff", str(old), str(new), "--format", "html", "--file", str(out))
    assert run.returncode == 0, run.stderr
    return out


@contextmanager
def opened(page_file: Path, errors: list[str], requests: list[str] | None = None) -> Iterator[Page]:
    """The page in Debian's headless Chromium, every error it meets collected (and every
    URL it requests, when ``requests`` is given)."""
    assert Path(CHROMIUM).exists(), "headless Chromium is needed (apt-get install chromium)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
            if requests is not None:
                page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            yield page
        finally:
            browser.close()


def test_html_diff_in_chromium(snapshots, tmp_path: Path) -> None:
    page_file = html_diff(snapshots["2014-11-19"], snapshots["2015-06"], tmp_path / "diff.html")
    html = page_file.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.split("<body>")[0]  # self-contained
    errors: list[str] = []
    with opened(page_file, errors) as page:
        for value in (
            "Loviisan kaupunki",
            "Porvoon kaupunki",
            "Borgå stad",
            "Matkailu- ja kulttuuripalvelujen kehittäminen",
            "2015-06-15",
        ):
            assert page.get_by_text(value).first.is_visible(), value
        assert page.locator("#verdict").inner_text().startswith("New snapshot: healthy")
        # Old and new side by side in the same row.
        row = page.locator("tr", has_text="Loviisan kaupunki").first
        assert "Porvoon kaupunki" in row.inner_text()
        shot = tmp_path / "diff.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    assert errors == []


def test_degraded_verdict_is_visible(snapshots, tmp_path: Path) -> None:
    page_file = html_diff(
        snapshots["2014-11-19"], snapshots["2014-11-19-empty"], tmp_path / "degraded.html"
    )
    errors: list[str] = []
    with opened(page_file, errors) as page:
        assert "degraded" in page.locator("#verdict").inner_text()
        assert page.get_by_text("extraction_failed").first.is_visible()
    assert errors == []
