"""A synthetic ministry site of realistic size, for benchmarks and crawl tests at scale.

The replica's pilots pages are small (1.7 KiB); the real site's pages were about 23 KiB,
with navigation, side boxes and long texts. Measured on small pages, extraction looked
seven times faster than it is. This site has N pages per language (fi, sv, en), each
15-30 KiB: a header with language and text-version links, a left navigation of 40 links,
a side box of contacts ("Lisätietoja"), paragraphs of running text, an update date, and on
every tenth page a pilot list. Pages link as a five-ary tree (depth 5 and more for the
default 2,000 pages) plus a few cross links, so a site crawl must go deep.

Everything is generated from a seed, deterministically: the same N and seed give the same
bytes, served by :class:`SyntheticServer` or written as static files for nginx
(:func:`write_static`). URLs are the same in both: ``/{lang}/{id}.html``, the front page of
a language ``/{lang}/index.html``, and ``/`` redirects to the Finnish front page.
"""

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pilotarchive.exceptions import ReplicaError

LANGUAGES = ("fi", "sv", "en")
DEFAULT_PAGES = 2000
DEFAULT_SEED = 2014
BRANCHING = 5

_WORDS = {
    "fi": "alue kehittäminen kaupunki seutu yhteistyö kilpailukyky elinkeino yritys kasvu "
    "ohjelma hanke rahoitus kunta maakunta palvelu työllisyys osaaminen innovaatio "
    "toimenpide tavoite vuosi ministeriö valtio kumppanuus verkosto tutkimus koulutus "
    "hallitus päätös selvitys raportti toteutus seuranta arviointi kehitys".split(),
    "sv": "region utveckling stad samarbete konkurrenskraft näringsliv företag tillväxt "
    "program projekt finansiering kommun landskap tjänst sysselsättning kompetens "
    "innovation åtgärd mål år ministeriet staten partnerskap nätverk forskning "
    "utbildning regeringen beslut utredning rapport genomförande uppföljning".split(),
    "en": "region development town cooperation competitiveness business company growth "
    "programme project funding municipality province service employment skills "
    "innovation measure goal year ministry state partnership network research "
    "education government decision study report implementation monitoring".split(),
}
_UI = {
    "fi": ("På svenska", "In English", "Tekstiversio", "Lisätietoja:", "Sivua viimeksi "
           "päivitetty", "puh.", "Teema", "koordinaattorina"),
    "sv": ("Suomeksi", "In English", "Textversion", "Ytterligare information:",
           "Sidan senast uppdaterad", "tfn", "Tema", "som samordnas av"),
    "en": ("Suomeksi", "På svenska", "Text version", "Further information:",
           "Page last updated", "tel.", "Theme", "coordinated by"),
}  # fmt: skip
_PEOPLE = [
    ("Olli", "Alho"), ("Lari", "Anttonen"), ("Leena", "Mäkinen"), ("Juha", "Heikkinen"),
    ("Sanna", "Kärkkäinen"), ("Mikael", "Eriksson"), ("Kaisa", "Niemi"), ("Pekka", "Laine"),
]  # fmt: skip
_TOWNS = ["Raahe", "Iisalmi", "Loviisa", "Kokkola", "Savonlinna", "Salo", "Porvoo", "Kemi"]


@dataclass(frozen=True)
class SyntheticSite:
    pages: int = DEFAULT_PAGES  # per language
    seed: int = DEFAULT_SEED

    def url(self, language: str, page: int | None) -> str:
        return f"/{language}/index.html" if page is None else f"/{language}/{page}.html"

    def paths(self) -> Iterator[str]:
        for language in LANGUAGES:
            yield self.url(language, None)
            for page in range(self.pages):
                yield self.url(language, page)

    def children(self, page: int | None) -> list[int]:
        first = 0 if page is None else page * BRANCHING + 1
        count = 1 if page is None else BRANCHING
        return [c for c in range(first, first + count) if c < self.pages]

    def depth(self) -> int:
        """Levels below the front page (the front page links to page 0, the tree's root)."""
        depth, last = 1, 0
        while last * BRANCHING + 1 < self.pages:
            last = last * BRANCHING + BRANCHING
            depth += 1
        return depth

    def html(self, language: str, page: int | None) -> str:
        return _render(self, language, page)


def _paragraph(rng: random.Random, words: list[str]) -> str:
    sentences = []
    for _ in range(rng.randint(4, 7)):
        chosen = [rng.choice(words) for _ in range(rng.randint(8, 16))]
        sentences.append(" ".join(chosen).capitalize() + ".")
    return " ".join(sentences)


@lru_cache(maxsize=256)
def _render(site: SyntheticSite, language: str, page: int | None) -> str:
    rng = random.Random(f"{site.seed}-{language}-{page}")
    words = _WORDS[language]
    other_a, other_b, text_link, more, updated_label, phone_label, theme, coordinator = _UI[
        language
    ]
    others = [lang for lang in LANGUAGES if lang != language]
    e = escape
    title = (
        "Etusivu"
        if page is None and language == "fi"
        else (
            f"{words[(page or 0) % len(words)].capitalize()} {page if page is not None else ''}"
        ).strip()
    )
    header = (
        f'<div id="header"><div class="toplinks"><a href="{site.url(others[0], page)}" '
        f'lang="{others[0]}">{other_a}</a> | <a href="{site.url(others[1], page)}" '
        f'lang="{others[1]}">{other_b}</a> | <a href="/text{site.url(language, page)}">'
        f"{text_link}</a></div></div>"
    )
    nav_pages = sorted({rng.randrange(site.pages) for _ in range(40)})
    nav = "".join(
        f'<li><a href="{site.url(language, p)}">{e(words[p % len(words)].capitalize())} {p}'
        "</a></li>"
        for p in nav_pages
    )
    links = site.children(page) + [rng.randrange(site.pages) for _ in range(3)]
    body_links = "".join(
        f'<li><a href="{site.url(language, p)}">{e(" ".join(rng.choice(words) for _ in range(4)))}'
        "</a></li>"
        for p in links
    )
    target = rng.randint(17 * 1024, 30 * 1024)
    paragraphs: list[str] = []
    size = 0
    while size < target - 4000:
        text = _paragraph(rng, words)
        paragraphs.append(f"<p>{e(text)}</p>")
        size += len(text.encode("utf-8")) + 7
    pilots = ""
    if page is not None and page % 10 == 0:
        items = "".join(
            f"<li><strong>{theme} {e(rng.choice(words))} {n + 1}</strong> – {coordinator} "
            f"{e(rng.choice(_TOWNS))}</li>"
            for n in range(4)
        )
        pilots = f"<ul>{items}</ul>"
    given, family = rng.choice(_PEOPLE)
    given2, family2 = rng.choice(_PEOPLE)
    box = (
        f'<div class="lisatietoja"><h3>{more}</h3><p>{e(given)} {e(family)}, {phone_label} 029 '
        f"506 {rng.randint(1000, 9999)}, {given.lower()}.{family.lower()}@tem.fi</p>"
        f"<p>{e(family2)}, {e(given2)}, {phone_label} 029 504 {rng.randint(1000, 9999)}</p></div>"
    )
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title></head><body>{header}"
        f'<div id="wrapper"><div id="leftnav"><ul>{nav}</ul></div>'
        f'<div id="content"><h1>{e(title)}</h1>{"".join(paragraphs[:2])}{pilots}'
        f"<ul>{body_links}</ul>{''.join(paragraphs[2:])}"
        f'<p class="paivitetty">{updated_label}: {day}.{month}.2014</p></div>'
        f"{box}</div></body></html>\n"
    )


def page_for(site: SyntheticSite, path: str) -> tuple[int, bytes, str]:
    """Status, body and content type for a path of the synthetic site."""
    text = path.startswith("/text/")
    if text:
        path = path[len("/text") :]
    if path in ("/", ""):
        return 302, b"", "/fi/index.html"
    if path == "/robots.txt":
        return 200, b"User-agent: *\nDisallow:\n", "text/plain"
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] in LANGUAGES and parts[1].endswith(".html"):
        name = parts[1].removesuffix(".html")
        # A page number of thousands of digits is no page (and past int()'s digit limit).
        page = None if name == "index" else int(name) if name.isdigit() and len(name) < 19 else -1
        if page is None or 0 <= page < site.pages:
            return 200, site.html(parts[0], page).encode("utf-8"), "text/html; charset=utf-8"
    return 404, b"<html><body><h1>404</h1></body></html>", "text/html; charset=utf-8"


def write_static(site: SyntheticSite, root: Path) -> int:
    """The site as files under ``root`` (for nginx); returns the number of pages written."""
    count = 0
    for path in site.paths():
        for prefix in ("", "/text"):
            status, body, _ = page_for(site, prefix + path)
            if status == 200:
                file = root / (prefix + path).lstrip("/")
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_bytes(body)
                count += 1
    (root / "robots.txt").write_bytes(b"User-agent: *\nDisallow:\n")
    (root / "index.html").write_bytes(
        b'<html><head><meta http-equiv="refresh" content="0; url=/fi/index.html"></head>'
        b'<body><a href="/fi/index.html">fi</a></body></html>'
    )
    return count


class SyntheticServer:
    """The synthetic site on 127.0.0.1, in a background thread (or in the foreground)."""

    def __init__(self, site: SyntheticSite, host: str = "127.0.0.1", port: int = 0) -> None:
        self.site = site
        self.requests = 0
        served = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                served.requests += 1
                status, body, kind = page_for(site, self.path.split("?")[0])
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", kind)
                    body = b""
                else:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        try:
            self.httpd = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise ReplicaError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "SyntheticServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve_forever(self) -> None:
        self.httpd.serve_forever()
