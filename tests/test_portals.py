"""The later portal's layouts (replica/portals.py) as a crawler meets them, over HTTP.

The same content in every layout; no text versions; site chrome (menus, the news list,
the footer with the ministry's switchboard) never read as a pilot or a person; the broken
site versions stay broken. Expected values come from replica/content.py.
"""

import urllib.error
import urllib.request

import pytest

from pilotarchive.extract.page import extract_page
from pilotarchive.replica.content import FURTHER_INFORMATION, VERSIONS
from pilotarchive.replica.server import ReplicaServer

NEW_LAYOUTS = ["portal", "details", "tabs"]


def fetch(server: ReplicaServer, path: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            return response.status, response.read(), dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers.items())


@pytest.mark.parametrize("layout", NEW_LAYOUTS)
def test_every_new_layout_is_read_completely(layout: str) -> None:
    state = VERSIONS["2015-06"].pages
    with ReplicaServer("2015-06", layout=layout) as server:
        for lang, query in (("fi", "s=4398"), ("sv", "l=sv&s=4398"), ("en", "l=en&s=4398")):
            status, body, headers = fetch(server, f"/index.phtml?{query}")
            assert status == 200
            page = extract_page(body, server.url + f"/index.phtml?{query}", headers=headers)
            pilots = [p for p in page.pilots if p.kind == "pilot"]
            assert [p.theme for p in pilots] == [p.themes[lang] for p in state[lang].pilots]
            assert [p.coordinator for p in pilots] == [
                p.coordinators[lang] for p in state[lang].pilots
            ]
            assert [(p.contact.email, p.contact.phone) for p in pilots if p.contact] == [
                (p.contact.email, "+358" + p.contact.phone[1:].replace(" ", ""))
                for p in state[lang].pilots
            ]
            assert [(c.person.family_name, c.person.title, c.email) for c in page.contacts] == [
                (p.family, p.titles[lang], p.email) for p in FURTHER_INFORMATION
            ]
            assert page.updated is not None
            assert page.updated.date == state[lang].updated.isoformat()
        assert fetch(server, "/text.phtml?s=4398")[0] == 404


@pytest.mark.parametrize("layout", NEW_LAYOUTS)
def test_site_chrome_is_never_a_record(layout: str) -> None:
    """The front page and another page of the site: a header with menus, the news list,
    the footer with the ministry's address and switchboard, and nothing else."""
    with ReplicaServer(layout=layout) as server:
        for path in ("/index.phtml", "/index.phtml?s=100", "/index.phtml?l=en&s=101"):
            status, body, headers = fetch(server, path)
            assert status == 200
            page = extract_page(body, server.url + path, headers=headers)
            assert page.pilots == [] and page.contacts == [], path


@pytest.mark.parametrize("layout", NEW_LAYOUTS)
def test_broken_versions_stay_broken_in_the_new_layouts(layout: str) -> None:
    with ReplicaServer("2014-11-19-redesign", layout=layout) as server:
        status, body, headers = fetch(server, "/index.phtml?s=4398")
        page = extract_page(body, server.url + "/index.phtml?s=4398", headers=headers)
        assert status == 200
        assert [p.kind for p in page.pilots] == ["project"]  # the cards are not read
        server.set_version("2014-11-19-empty")
        status, body, headers = fetch(server, "/index.phtml?s=4398")
        assert status == 200
        assert extract_page(body, server.url, headers=headers).pilots == []
