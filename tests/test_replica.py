"""The replica server over real HTTP: redirects, encodings, versions, faults."""

import http.client
import urllib.error
import urllib.request

import pytest

from pilotarchive.exceptions import ReplicaError
from pilotarchive.replica.content import DATED_VERSIONS, VERSIONS
from pilotarchive.replica.server import Fault, ReplicaServer

SEED_SENTENCE = "Työ- ja elinkeinoministeriö on käynnistänyt neljä pilottia"


def get(replica: ReplicaServer, path: str, method: str = "GET") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", replica.httpd.server_address[1], timeout=5)
    conn.request(method, path)
    return conn.getresponse()


def test_alias_redirects_permanently(replica: ReplicaServer) -> None:
    response = get(replica, "/seutukaupunkipilotit")
    assert response.status == 301
    assert response.getheader("Location") == "/index.phtml?s=4398"


def test_finnish_page_is_latin1_with_charset_in_meta_only(replica: ReplicaServer) -> None:
    response = get(replica, "/index.phtml?s=4398")
    assert response.getheader("Content-Type") == "text/html"
    body = response.read()
    assert b'charset=iso-8859-1"' in body
    text = body.decode("iso-8859-1")
    assert SEED_SENTENCE in text
    assert "Sivua viimeksi päivitetty: 19.11.2014" in text
    for part in (
        "På svenska",
        "In English",
        "Tekstiversio",
        "Sivukartta",
        "Palaute",
        "Yhteystiedot",
        "Tulosta sivu",
        "Lisätietoja:",
        "Neuvotteleva virkamies Alho Olli",
        "Ylitarkastaja Anttonen, Lari",
        "etunimi.sukunimi@yrityssalo.fi",
    ):
        assert part in text, part


def test_other_languages_are_utf8(replica: ReplicaServer) -> None:
    response = get(replica, "/index.phtml?l=sv&s=4398")
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "Sidan senast uppdaterad: 19.11.2014" in response.read().decode("utf-8")
    english = get(replica, "/index.phtml?l=en&s=4398").read().decode("utf-8")
    assert "Page last updated: 3 October 2014" in english  # the English page lags behind


def test_robots_txt_disallows_search(replica: ReplicaServer) -> None:
    assert b"Disallow: /haku/" in get(replica, "/robots.txt").read()


def test_versions_switch_while_serving(replica: ReplicaServer) -> None:
    assert get(replica, "/index.phtml?l=en&s=4398").status == 200
    assert get(replica, "/_replica/version?set=2014-06", "POST").read() == b"2014-06"
    assert get(replica, "/index.phtml?l=en&s=4398").status == 404
    assert get(replica, "/_replica/version?set=2099-01", "POST").status == 400
    replica.set_version("2015-06")
    assert get(replica, "/text.phtml?l=sv&s=4398").status == 404
    assert "viisi pilottia" in get(replica, "/index.phtml?s=4398").read().decode("iso-8859-1")
    with pytest.raises(ReplicaError, match="known: 2014-06"):
        replica.set_version("nope")


def test_versions_differ_the_way_they_say() -> None:
    assert [len(VERSIONS[v].pages) for v in DATED_VERSIONS] == [2, 3, 3]
    assert all(v.description for v in VERSIONS.values())
    assert {v.layout for v in VERSIONS.values()} == {"classic", "redesign", "empty"}


@pytest.mark.parametrize("layout", ["redesign", "empty"])
def test_broken_versions_break_only_the_graphic_pilots_pages(replica, layout: str) -> None:
    replica.set_version(f"2014-11-19-{layout}")
    page = get(replica, "/index.phtml?s=4398").read().decode("iso-8859-1")
    assert '<ul class="pilotit">' not in page
    assert ("pilot-cards" in page) == (layout == "redesign")
    text = get(replica, "/text.phtml?s=4398").read().decode("iso-8859-1")
    assert "Teema: Teollisuuden rakennemuutos ja uudet kasvualat" in text


def test_faults(replica: ReplicaServer) -> None:
    replica.inject("/index.phtml", Fault(status=503))
    assert get(replica, "/index.phtml?l=sv").status == 503
    get(replica, "/_replica/reset", "POST")
    assert get(replica, "/index.phtml?l=sv").status == 200
    replica.inject("/index.phtml?s=1", Fault(truncate=10))
    response = get(replica, "/index.phtml?s=1")
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    get(replica, "/_replica/fault?path=/index.phtml%3Fs%3D2&drop=1", "POST")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        get(replica, "/index.phtml?s=2")


def test_unknown_pages_are_404(replica: ReplicaServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{replica.url}/index.phtml?s=99999", timeout=5)
    assert info.value.code == 404


def test_port_in_use_is_a_clear_error(replica: ReplicaServer) -> None:
    with pytest.raises(ReplicaError, match="choose another --port"):
        ReplicaServer(port=replica.httpd.server_address[1])


def test_the_default_layout_puts_the_box_outside_the_content_area(replica) -> None:
    """As on the real page: "Lisätietoja:" after "Tulosta sivu", outside the article."""
    import lxml.html

    body = get(replica, "/index.phtml?s=4398").read()
    root = lxml.html.document_fromstring(body)
    content = root.get_element_by_id("content")
    heading = next(el for el in root.iter("h3") if el.text_content().startswith("Lisätietoja"))
    assert content not in heading.iterancestors()
    text = root.text_content()
    assert text.index("Tulosta sivu") < text.index("Lisätietoja:") < text.index("Alho Olli")


@pytest.mark.parametrize("layout", ["table", "div", "2016", "cms"])
def test_every_layout_serves_the_same_content(layout: str) -> None:
    from pilotarchive.replica.content import FURTHER_INFORMATION, VERSIONS

    with ReplicaServer(layout=layout) as server:
        for path, lang in (("/index.phtml?s=4398", "fi"), ("/index.phtml?l=sv&s=4398", "sv")):
            response = get(server, path)
            assert response.status == 200
            charset = "iso-8859-1" if lang == "fi" else "utf-8"
            html = response.read().decode(charset)
            for pilot in VERSIONS["2014-11-19"].pages[lang].pilots:
                assert pilot.themes[lang] in html
                assert pilot.contact.family in html
            for person in FURTHER_INFORMATION:
                assert person.family in html and person.titles[lang] in html
        text = get(server, "/text.phtml?s=4398").status
        assert text == (200 if layout in ("table", "div") else 404)


def test_layouts_switch_while_serving(replica: ReplicaServer) -> None:
    assert get(replica, "/_replica/layout", "POST").read() == b"table"
    assert get(replica, "/_replica/layout?set=cms", "POST").read() == b"cms"
    assert "<main" in get(replica, "/index.phtml?s=4398").read().decode("iso-8859-1")
    assert get(replica, "/text.phtml?s=4398").status == 404
    assert get(replica, "/_replica/layout?set=1999", "POST").status == 400
    with pytest.raises(ReplicaError, match="known: table, div, 2016, cms"):
        replica.set_layout("nope")


@pytest.mark.parametrize("layout", ["table", "div", "2016", "cms"])
def test_broken_versions_stay_broken_in_every_layout(layout: str) -> None:
    from pilotarchive.extract.page import extract_page

    with ReplicaServer("2014-11-19-redesign", layout=layout) as server:
        body = get(server, "/index.phtml?s=4398").read()
        page = extract_page(body, f"{server.url}/index.phtml?s=4398", headers={})
        assert [p.kind for p in page.pilots] == ["project"]  # no pilot list
        server.set_version("2014-11-19-empty")
        body = get(server, "/index.phtml?s=4398").read()
        assert extract_page(body, f"{server.url}/index.phtml?s=4398", headers={}).pilots == []
