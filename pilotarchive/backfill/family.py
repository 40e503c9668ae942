"""The page family over time: which URLs are versions of the start page, and when.

A live crawl starts at the pilots page and follows its language links and its text-version
link, and the text-version links of the language versions. A backfill does the same from the
captured pages' own links, with one difference that time makes necessary: a link holds only
while the page shows it. In June 2014 the Finnish page's "In English" led to the English
front page; by November it led to the English pilots page. The front page has been captured
for years before and after, and those captures are no versions of the pilots page. So:

- **anchors** are the start URLs and where their captured redirects lead (the alias
  ``seutukaupunkipilotit`` is a 301 to ``index.phtml?s=4398``): every capture of an anchor
  counts;
- a **language or text version** linked from an anchor's capture counts from ``window``
  days before that capture until ``window`` days after the anchor's next capture that no
  longer links to it (captures identical to the one before do not change what is linked,
  so a page whose language links never change keeps its versions for good);
- the text version of a language version, and where a version's captured redirect leads,
  count while their page counts.

Alternates of versions are not followed (the English front page's language links lead to
the Finnish and Swedish front pages, which are not versions of the pilots page).

A URL outside the crawl's scope (``allows``) is never a member, whoever links or
redirects to it: its captures are not listed and its links not followed.

Captures are then grouped in time order: a group starts at the earliest capture not yet
used and takes, within ``window`` days of it, at most one capture per URL; it closes at the
first capture beyond the window or of a URL it already holds, so snapshots never overlap in
time.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pilotarchive.backfill.cdx import Capture, Listing, url_key

MAX_MEMBERS = 60  # a page family is a handful of URLs; a runaway is stopped here


@dataclass
class Member:
    url: str
    key: str
    anchor: bool
    hint: str | None  # the language the link to it named
    parent: str | None = None  # key of the page it belongs to (text version, redirect target)
    listing: Listing | None = None  # None until its captures were listed


@dataclass(frozen=True)
class PageLinks:
    """What one captured page links to that can belong to the family."""

    language: str | None
    alternates: tuple[tuple[str, str], ...]  # (language, url)
    text: str | None
    graphic: str | None

    @classmethod
    def of(
        cls, language: str | None, alternates: dict[str, str], text: str | None, graphic: str | None
    ) -> "PageLinks":
        return cls(language, tuple(sorted(alternates.items())), text, graphic)

    def urls(self) -> list[str]:
        return [u for _, u in self.alternates] + [u for u in (self.text, self.graphic) if u]

    def link_keys(self) -> set[str]:
        return {url_key(u) for u in self.urls()}


class Family:
    def __init__(
        self,
        window: timedelta,
        limit: int = MAX_MEMBERS,
        allows: Callable[[str], bool] = lambda url: True,
    ) -> None:
        self.window = window
        self.limit = limit
        self.allows = allows  # the crawl's scope: pilotarchive.settings.Scope.allows
        self.out_of_scope: list[str] = []  # URLs linked or redirected to, not followed
        self.members: dict[str, Member] = {}
        self.history: dict[str, dict[str, PageLinks]] = {}  # page key -> timestamp -> links
        self.left_out: list[str] = []  # URLs not added once the limit was reached

    def __contains__(self, key: str) -> bool:
        return key in self.members

    def unlisted(self) -> list[Member]:
        return [m for m in self.members.values() if m.listing is None]

    def add(
        self, url: str, *, anchor: bool, hint: str | None = None, parent: str | None = None
    ) -> Member | None:
        """Add a URL (or make a known one an anchor); the member when something changed."""
        if not self.allows(url):
            if url not in self.out_of_scope and len(self.out_of_scope) < self.limit:
                self.out_of_scope.append(url)
            return None
        key = url_key(url)
        known = self.members.get(key)
        if known is not None:
            if anchor and not known.anchor:
                known.anchor, known.parent = True, None
                return known
            return None
        if len(self.members) >= self.limit:
            if url not in self.left_out:
                self.left_out.append(url)
            return None
        member = Member(url, key, anchor, hint, None if anchor else parent)
        self.members[key] = member
        return member

    def saw_page(self, key: str, timestamp: str, links: PageLinks) -> list[Member]:
        """A page capture of member ``key`` was read: remember its links, add its versions."""
        self.history.setdefault(key, {})[timestamp] = links
        member = self.members.get(key)
        if member is None:
            return []
        added: list[Member] = []

        def add(url: str, hint: str | None, parent: str | None) -> None:
            if (found := self.add(url, anchor=False, hint=hint, parent=parent)) is not None:
                added.append(found)

        twins = [u for u in (links.text, links.graphic) if u]  # text and graphic versions
        if member.anchor:
            for language, url in links.alternates:
                add(url, language, None)
        for twin in twins:
            add(twin, links.language or member.hint, None if member.anchor else key)
        return added

    def saw_redirect(self, key: str, target: str) -> list[Member]:
        """A captured redirect of member ``key`` leads to ``target``: the same page."""
        member = self.members.get(key)
        if member is None:
            return []
        found = self.add(
            target,
            anchor=member.anchor,
            hint=member.hint,
            parent=None if member.anchor else key,
        )
        return [found] if found is not None else []

    def relevant(self, key: str, when: datetime, _depth: int = 0) -> bool:
        """Does a capture of ``key`` at ``when`` belong to the page family then?

        Needs every anchor capture up to ``when + window`` read (see the module docstring).
        """
        member = self.members.get(key)
        if member is None or _depth > 10:
            return False
        if member.anchor:
            return True
        if member.parent is not None:
            return self.relevant(member.parent, when, _depth + 1)
        for anchor in (m for m in self.members.values() if m.anchor):
            seen = sorted(self.history.get(anchor.key, {}).items())
            for i, (stamp, links) in enumerate(seen):
                if key not in links.link_keys():
                    continue
                since = _time(stamp) - self.window
                until = _time(seen[i + 1][0]) + self.window if i + 1 < len(seen) else None
                if since <= when and (until is None or when < until):
                    return True
        return False


def _time(stamp: str) -> datetime:
    return Capture("", stamp, None, None).time


def first_group(pending: Iterable[Capture], window: timedelta) -> list[Capture]:
    """The captures of the next snapshot: from the earliest, within ``window`` of it, one per
    URL, closed at the first capture beyond the window or of a URL already in the group."""
    group: list[Capture] = []
    keys: set[str] = set()
    for capture in pending:
        if group and (capture.time - group[0].time > window or capture.key in keys):
            break
        group.append(capture)
        keys.add(capture.key)
    return group
