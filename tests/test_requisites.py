"""Page requisites: what a page loads is archived with it, from its own hosts and the hosts
a target names for them (a CDN), and never crawled further."""

from pathlib import Path

import pytest

from pilotarchive.extract.page import extract_page
from pilotarchive.extract.requisites import MAX_PER_DOCUMENT, css_requisites, html_requisites
from pilotarchive.replica.content import DEFAULT_VERSION, VERSIONS
from pilotarchive.replica.layouts import LAYOUTS
from pilotarchive.replica.render import PageRef
from pilotarchive.replica.server import render
from pilotarchive.replica.synthetic import SyntheticSite, page_for
from tests.helpers import load_manifest, load_records, warc_records
from tests.hostile import HostileServer
from tests.test_scope import crawl_of

BASE = "http://site.example/dir/page.html"


def synthetic_pages(count: int) -> list[tuple[str, bytes, None]]:
    site = SyntheticSite(count)
    out = []
    for path in list(site.paths())[:count]:
        status, body, _ = page_for(site, path)
        if status == 200:
            out.append((f"http://www.tem.fi{path}", body, None))
    return out


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param(
            b'<link rel="stylesheet" href="/css/a.css"><link rel="alternate" href="/sv">',
            ["http://site.example/css/a.css"],
            id="stylesheet-not-alternate",
        ),
        pytest.param(
            b'<img src="i.png" srcset="i2.png 2x, /i3.png 3x"><a href="/next">next</a>',
            [
                "http://site.example/dir/i.png",
                "http://site.example/dir/i2.png",
                "http://site.example/i3.png",
            ],
            id="img-srcset-no-anchor",
        ),
        pytest.param(
            b'<script src="//cdn.example/s.js"></script><script>var a="/x.js"</script>',
            ["http://cdn.example/s.js"],
            id="script-src-protocol-relative",
        ),
        pytest.param(
            b"<style>h1{background:url('/h.png')}</style><div style='background:url(d.gif)'>",
            ["http://site.example/h.png", "http://site.example/dir/d.gif"],
            id="inline-style-urls",
        ),
        pytest.param(
            b'<base href="http://other.example/b/"><img src="x.png"><img src="data:image/png,">',
            ["http://other.example/b/x.png"],
            id="base-href-and-data-uri",
        ),
        pytest.param(
            b'<link rel="icon" href="/favicon.ico"><img src="x.png#frag"><img src="x.png">',
            ["http://site.example/favicon.ico", "http://site.example/dir/x.png"],
            id="icon-fragment-once",
        ),
    ],
)
def test_html_requisites(html: bytes, expected: list[str]) -> None:
    page = b"<html><head></head><body>" + html + b"</body></html>"
    assert html_requisites(page, BASE) == expected
    # A crawl reads them from the extraction's own parse: the same list.
    assert extract_page(page, BASE, with_requisites=True).requisites == expected


# The page's header (its logo) is dropped from the extraction's tree when the page marks no
# content area: the requisites are read before that, so the logo is still one.
HEADER_ONLY = (
    b'<html><head><link rel="stylesheet" href="/s.css"></head><body>'
    b'<div id="header"><img src="/logo.png"></div><div><p>Teksti</p></div></body></html>'
)


def test_a_crawl_reads_requisites_from_the_extractions_parse_as_from_a_parse_of_its_own() -> None:
    expected = ["http://site.example/s.css", "http://site.example/logo.png"]
    assert html_requisites(HEADER_ONLY, BASE) == expected
    assert extract_page(HEADER_ONLY, BASE, with_requisites=True).requisites == expected
    assert extract_page(HEADER_ONLY, BASE).requisites == []  # only when asked for
    pages = [(u, b) for u, b, _ in synthetic_pages(30)] + [
        (f"http://www.tem.fi{PageRef(lang, 4398, text).url}",
         render(VERSIONS[DEFAULT_VERSION], *_path_query(PageRef(lang, 4398, text).url),
                layout=layout).body)
        for layout in LAYOUTS for lang in ("fi", "sv", "en") for text in (False, True)
    ]  # fmt: skip
    for url, body in pages:
        assert extract_page(body, url, with_requisites=True).requisites == (
            html_requisites(body, url)
        ), url
    assert any(html_requisites(body, url) for url, body in pages)  # the replica has some


def _path_query(url: str) -> tuple[str, dict[str, str]]:
    path, _, query = url.partition("?")
    return path, dict(p.split("=") for p in query.split("&") if p)


@pytest.mark.parametrize(
    ("css", "expected"),
    [
        pytest.param(
            b'@font-face{src:url("f.woff2") format("woff2"), url(f.woff)}',
            ["http://site.example/dir/f.woff2", "http://site.example/dir/f.woff"],
            id="font-face",
        ),
        pytest.param(
            b'@import "print.css"; @import url(/base.css); b{background:url( data:x )}',
            ["http://site.example/base.css", "http://site.example/dir/print.css"],
            id="import-both-forms-no-data",
        ),
    ],
)
def test_css_requisites(css: bytes, expected: list[str]) -> None:
    assert css_requisites(css, BASE) == expected


def test_a_page_with_too_many_images_names_a_bounded_number() -> None:
    html = b"".join(b'<img src="/i%d.png">' % n for n in range(5000))
    assert len(html_requisites(html, BASE)) == MAX_PER_DOCUMENT


def site(hostile: HostileServer, cdn: HostileServer) -> None:
    hostile.page(
        "/",
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Etusivu</title>'
        '<link rel="stylesheet" href="/own.css">'
        f'<link rel="stylesheet" href="{cdn.url}/cdn.css"></head>'
        f'<body><h1>Etusivu</h1><img src="{cdn.url}/logo.png"><img src="/missing.png">'
        f'<a href="{cdn.url}/page">a page on the CDN host</a></body></html>',
    )
    hostile.route("/own.css", headers=[(b"Content-Type", b"text/css")], body=b"h1{color:red}")
    cdn.route(
        "/cdn.css",
        headers=[(b"Content-Type", b"text/css")],
        body=b"body{background:url(bg.png)} @font-face{src:url(/f.woff2)}",
    )
    for path in ("/logo.png", "/bg.png", "/f.woff2"):
        kind = [(b"Content-Type", b"application/octet-stream")]
        cdn.route(path, headers=kind, body=path.encode())  # distinct: none a revisit
    cdn.page("/page", "<html><body><a href='/deeper'>deeper</a></body></html>")


def test_requisites_from_the_site_and_a_named_cdn(
    hostile: HostileServer, canary: HostileServer, tmp_path: Path
) -> None:
    site(hostile, canary)
    cdn = f"127.0.0.1:{canary.port}"
    run = crawl_of(hostile, tmp_path, "-s", f"PILOTARCHIVE_REQUISITE_HOSTS={cdn}")
    # The CDN gave the page's stylesheet and image and what the stylesheet loads; its page
    # linked from ours is no requisite, and nothing was crawled there.
    assert sorted(canary.paths()) == ["/bg.png", "/cdn.css", "/f.woff2", "/logo.png"]
    assert {"/", "/own.css", "/missing.png"} <= set(hostile.paths())
    archived = {r["uri"] for r in warc_records(run.snapshot) if r["type"] == "response"}
    assert {f"{canary.url}/cdn.css", f"{canary.url}/bg.png", f"{hostile.url}/own.css"} <= archived
    # Requisites make no page records; a missing one is a note, not a failure.
    assert [p["final_url"] for p in load_records(run.snapshot)["pages"]] == [f"{hostile.url}/"]
    manifest = load_manifest(run.snapshot)
    assert manifest["failures"] == []
    assert any(f"{hostile.url}/missing.png" in note for note in manifest["notes"])


def test_no_requisite_from_a_host_not_named(
    hostile: HostileServer, canary: HostileServer, tmp_path: Path
) -> None:
    site(hostile, canary)
    crawl_of(hostile, tmp_path)
    assert canary.requests == []
    assert "/own.css" in hostile.paths()


def test_a_bad_requisite_host_is_a_usage_error(hostile: HostileServer, tmp_path: Path) -> None:
    run = crawl_of(hostile, tmp_path, "-s", "PILOTARCHIVE_REQUISITE_HOSTS=:x", expect=None)
    assert run.returncode == 2 and "PILOTARCHIVE_REQUISITE_HOSTS" in run.stderr


def test_a_target_names_its_requisite_hosts_in_the_configuration(tmp_path: Path) -> None:
    from pilotarchive.exceptions import ConfigError
    from pilotarchive.schedule.config import parse_config

    text = (
        '[[target]]\nname = "pilots"\nrequisite_hosts = ["cdn.example.fi", '
        '"https://static.example.fi"]\n'
    )
    target = parse_config(text, tmp_path / "pilotarchive.toml").target("pilots")
    assert target.settings["PILOTARCHIVE_REQUISITE_HOSTS"] == (
        "cdn.example.fi,https://static.example.fi"
    )
    with pytest.raises(ConfigError, match="requisite_hosts"):
        parse_config(
            '[[target]]\nname = "pilots"\nrequisite_hosts = ["ftp://x"]\n',
            tmp_path / "pilotarchive.toml",
        )


def test_requisites_are_capped_per_crawl(hostile: HostileServer, tmp_path: Path) -> None:
    """A page and its stylesheets naming 125 requisites, with room for 60: 60 are
    fetched, and one note says the rest were left out."""
    links = "".join(f'<link rel="stylesheet" href="/s{n}.css">' for n in range(5))
    images = "".join(f'<img src="/i{n}.png">' for n in range(20))
    hostile.page("/", f"<html><head>{links}</head><body>{images}</body></html>")
    for n in range(5):
        css = "".join(f"b{m}{{background:url(/c{n}-{m}.png)}}" for m in range(20))
        hostile.route(f"/s{n}.css", headers=[(b"Content-Type", b"text/css")], body=css.encode())
    run = crawl_of(hostile, tmp_path, "-s", "PILOTARCHIVE_MAX_REQUISITES=60")
    fetched = [p for p in hostile.paths() if p.endswith((".css", ".png"))]
    assert len(fetched) == len(set(fetched)) == 60
    notes = load_manifest(run.snapshot)["notes"]
    assert len([n for n in notes if n.startswith("requisites left out")]) == 1


def test_the_requisite_cap_is_20_a_page_and_at_least_1000(tmp_path: Path) -> None:
    from scrapy.settings import Settings

    from pilotarchive.settings import load_config

    def cap(**given: object) -> int:
        settings = Settings()
        settings.setmodule("pilotarchive.settings")
        settings.setdict({"PILOTARCHIVE_OUTPUT_DIR": str(tmp_path), **given})
        return load_config(settings).max_requisites

    assert cap() == 10_000  # the default budget of 500 pages
    assert cap(PILOTARCHIVE_MAX_PAGES=5) == 1000
    assert cap(PILOTARCHIVE_MAX_REQUISITES=7) == 7
