"""An Atom feed (RFC 4287) of the archive's changes, per target and language, in the site.

``pilotarchive site`` writes ``feeds/changes.fi.atom``, ``changes.sv.atom`` and
``changes.en.atom``: one entry per pair of consecutive healthy snapshots that changed
something a reader would call a change, newest first, the last :data:`ENTRIES` of them.
An entry says what the mail to a subscriber of that language says (the same news, the
same words: :mod:`pilotarchive.alerts`), so a reader may follow the feed instead of the
mail. Every HTML page of the site names the three feeds in its head
(``<link rel="alternate" type="application/atom+xml" hreflang=...>``), which is how feed
readers and browsers find them.

Links in the feed are absolute under ``[mail] site_url`` when the configuration names one
(the site's public address), else relative to the feed (it sits in ``feeds/`` of the
site), which feed readers resolve against the feed's own URL. Nothing links to
``file://``.

The target's ``ignore_fields`` and ``site_url`` are read from ``pilotarchive.toml`` in the
working folder when it has the target; without it the feed says every change but noise.
"""

from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from pilotarchive.alerts.labels import count, labels
from pilotarchive.archive.snapshot import snapshot_time
from pilotarchive.controls import xml_safe

ENTRIES = 50  # entries per feed: a feed reader wants the recent ones, not years of them
FOLDER = "feeds"
LANGUAGES = ("fi", "sv", "en")
TITLES = {
    "fi": "Pilottiarkiston muutokset",
    "sv": "Ändringar i pilotarkivet",
    "en": "Changes in the pilot archive",
}
ATOM = "http://www.w3.org/2005/Atom"


def feed_file(language: str) -> str:
    """Where a language's feed is, relative to the site's root."""
    return f"{FOLDER}/changes.{language}.atom"


def feed_links(depth: int) -> str:
    """The ``<link rel="alternate">`` lines for a page ``depth`` folders below the root."""
    up = "../" * depth
    return "".join(
        f'<link rel="alternate" type="application/atom+xml" hreflang="{lang}" '
        f'title="{escape(TITLES[lang])}" href="{up}{feed_file(lang)}">'
        for lang in LANGUAGES
    )


def with_feed_links(rel: str, text: str) -> str:
    """An HTML page of the site with the feeds named in its head (other files as they are)."""
    if not rel.endswith(".html") or "</head>" not in text or 'type="application/atom+xml"' in text:
        return text
    return text.replace("</head>", feed_links(rel.count("/")) + "</head>", 1)


def _settings(target: str | None) -> tuple[str, tuple[str, ...]]:
    """``site_url`` and the target's ``ignore_fields`` from ./pilotarchive.toml, if any."""
    from pilotarchive.exceptions import PilotarchiveError
    from pilotarchive.schedule.config import DEFAULT_FILE, load_config

    if not DEFAULT_FILE.is_file():
        return "", ()
    try:
        config = load_config(DEFAULT_FILE, need_password=False)
    except PilotarchiveError:
        return "", ()  # the site does not need the configuration to be right
    ignore: tuple[str, ...] = ()
    for t in config.targets:
        if t.name == target:
            ignore = t.ignore_fields
    return config.mail.site_url, ignore


def _stamp(snapshot_id: str) -> str:
    when = snapshot_time(snapshot_id) or datetime.fromtimestamp(0, UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(cs: Any, language: str, site_url: str, ignore: tuple[str, ...]) -> str | None:
    from pilotarchive.alerts.headers import when
    from pilotarchive.alerts.news import Choices, lags_of, news_of
    from pilotarchive.alerts.noise import parse_ignored
    from pilotarchive.alerts.render import Links, blocks_html, blocks_text, news_blocks

    choices = Choices(ignored=parse_ignored(ignore))
    news = news_of(cs, choices)
    if not news:
        return None
    w = labels(language)
    title = w["subject"].format(count=count(language, len(news)), title=cs.title(language))
    intro = w["intro"].format(
        title=cs.title(language), new=when(cs.new, language), old=when(cs.old, language)
    )
    links = Links(site_url or "../")
    blocks = news_blocks(language, news, lags_of(cs, choices), links)
    html = "\n".join([f"<p>{escape(intro)}</p>", *blocks_html(blocks, level=3)])
    summary = "\n".join([intro, *blocks_text(blocks)]).strip()
    href = links.change(cs.old, cs.new)
    return (
        "<entry>"
        f"<id>urn:pilotarchive:{escape(cs.target)}:change:{cs.old}:{cs.new}:{language}</id>"
        f"<title>{escape(title)}</title>"
        f"<updated>{_stamp(cs.new)}</updated>"
        f'<link rel="alternate" type="text/html" href="{escape(href or "")}"/>'
        f"<summary>{escape(summary)}</summary>"
        f'<content type="html">{escape(html)}</content>'
        "</entry>"
    )


def write_feeds(
    put: Callable[[str, str], None],
    output: Path,
    diffs: Iterable[tuple[tuple[str, str], dict[str, Any]]],
    target: str | None,
) -> list[str]:
    """Write the three feeds through ``put(relative path, text)`` from the site's diffs
    (in time order; only the last :data:`ENTRIES` are kept in memory)."""
    from pilotarchive.alerts.changeset import make_change_set
    from pilotarchive.diff.compare import identity_for

    site_url, ignore = _settings(target)
    snapshots = Path(output) / "snapshots"
    recent = [item for item in deque(diffs, maxlen=ENTRIES) if item[1].get("changes")]
    identity = identity_for(Path(output), target) if recent else None  # read once
    sets = [
        make_change_set(target or "", snapshots / old, snapshots / new, diff, identity=identity)
        for (old, new), diff in reversed(recent)
    ]
    written = []
    for language in LANGUAGES:
        entries = [e for cs in sets if (e := _entry(cs, language, site_url, ignore))]
        newest = _stamp(sets[0].new) if sets else _stamp("")
        name = f"{target}: " if target else ""
        home = f"{site_url}index.html" if site_url else "../index.html"
        me = escape(site_url + feed_file(language))
        self_link = (
            f'<link rel="self" type="application/atom+xml" href="{me}"/>' if site_url else ""
        )
        text = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="{ATOM}" xml:lang="{language}">'
            f"<id>urn:pilotarchive:{escape(target or 'archive')}:feed:{language}</id>"
            f"<title>{escape(name + TITLES[language])}</title>"
            f"<updated>{newest}</updated>"
            "<author><name>pilotarchive</name></author>"
            '<generator uri="https://github.com/pilotarchive">pilotarchive</generator>'
            f'<link rel="alternate" type="text/html" href="{escape(home)}"/>'
            f"{self_link}\n" + "\n".join(entries) + "\n</feed>\n"
        )
        # Escaping is not enough: a control character is not allowed in XML at all, even
        # as a reference, and one in any text (a theme, a name) makes the feed unreadable.
        put(feed_file(language), xml_safe(text))
        written.append(feed_file(language))
    return written
