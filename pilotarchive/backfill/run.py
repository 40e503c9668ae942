"""The backfill loop: list, read what the next snapshot needs, write it, go on.

Snapshots are written one at a time, oldest first, each committed before the next one's
captures are read, so a backfill stopped at any point (Ctrl-C, a kill, an archive that
refuses) keeps every snapshot finished so far and loses at most the captures of the one it
was assembling. A run starts by reading what earlier backfills into the same folder hold:
captures already in a snapshot are not read again, the redirects and language links they
showed are known without a request, and a capture whose payload the digest index holds
(the archive's SHA-1 equals ours) is taken from our own WARC instead of the archive. So a
second backfill asks the CDX API for the listings and reads nothing else.

Each pass of the loop does one thing and starts over: list URLs newly found, read the
start page's captures up to two windows ahead (they say which versions count then), drop
captures of versions no captured page linked then, read the next group's captures, or
write it. Reading a page can reveal a URL (a text version, a redirect target); then the
groups are formed again before anything is written.

The crawl's scope holds here too: a captured redirect to a host outside it (the start
URLs' scheme, host and port, and --allow-host) is a failure, "redirect out of scope", not a
page, and a link out of it is not followed; a web archive cannot lead the backfill to list
and record another site as the pilots page.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pilotarchive.archive.dedup import DigestIndex
from pilotarchive.archive.lock import FileLock, output_lock
from pilotarchive.archive.snapshot import LOCK_WAIT, clean_stale, list_snapshots, utc_now
from pilotarchive.backfill.cdx import Capture, CdxClient, url_key
from pilotarchive.backfill.client import PoliteClient
from pilotarchive.backfill.config import BackfillConfig
from pilotarchive.backfill.family import Family, PageLinks, first_group
from pilotarchive.backfill.replay import Fetched, fetch_capture, replay_url
from pilotarchive.backfill.store import SnapshotMaker, Written, read_held
from pilotarchive.exceptions import ArchiveError, SnapshotError
from pilotarchive.extract.page import extract_page

SERVER_ERRORS_IN_A_ROW = 3  # the archive's replay is failing, not one capture


class Reporter(Protocol):
    def progress(self, line: str) -> None:
        """A line about the work under way (stderr)."""

    def snapshot(self, written: Written) -> None:
        """A snapshot was committed (or a group could not be written)."""


@dataclass
class Outcome:
    written: list[Written] = field(default_factory=list)
    not_written: list[Written] = field(default_factory=list)
    listed: int = 0  # captures kept from the listings
    already: int = 0  # of those, in snapshots of earlier backfills
    fetched: int = 0  # read from the archive
    held: int = 0  # taken from our own archive (payload known)
    known_redirects: int = 0  # redirects known from earlier snapshots
    failed: int = 0
    out_of_time: int = 0  # captures of versions not linked at their time
    impossible: int = 0  # listed with a time before the web or after now: skipped
    out_of_scope: int = 0  # listed for a URL in the family, but on a host outside the scope
    requests: int = 0
    cleaned: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def degraded(self) -> bool:
        return any(w.degraded for w in self.written)


class Backfill:
    def __init__(
        self,
        config: BackfillConfig,
        reporter: Reporter,
        *,
        client: PoliteClient | None = None,
        clock: Callable[[], datetime] = utc_now,
        make_id: Callable[[], str] | None = None,
    ) -> None:
        """``clock`` and ``make_id`` (WARC record ids) are injected for reproducible output."""
        self.config = config
        self.make_id = make_id
        self.reporter = reporter
        self.client = client or PoliteClient(config, reporter.progress)
        self.cdx = CdxClient(self.client, config, now=clock)
        self.clock = clock
        self.family = Family(config.window, allows=config.scope.allows)
        self.outcome = Outcome()
        self.done: set[tuple[str, str]] = set()  # captures in snapshots (earlier or this run)
        self.dropped: set[tuple[str, str]] = set()  # versions' captures outside their time
        self.reads: dict[tuple[str, str], Fetched] = {}  # read, not yet written
        self.redirects: dict[tuple[str, str | None], str] = {}  # (key, digest) -> target
        self.known_pages: dict[str, dict[str, PageLinks]] = {}  # from earlier snapshots
        self.server_errors = 0
        self.index: DigestIndex | None = None
        self.maker: SnapshotMaker | None = None

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> Outcome:
        output = self.config.output
        output.mkdir(parents=True, exist_ok=True)
        with FileLock(output / "locks" / "backfill.lock", wait=0, what=f"a backfill into {output}"):
            self.outcome.cleaned = clean_stale(output)
            if self.outcome.cleaned:
                names = ", ".join(p.name for p in self.outcome.cleaned)
                self.reporter.progress(
                    f"removed unfinished snapshot(s) left by a killed run: {names}"
                )
            with output_lock(output, wait=LOCK_WAIT):  # the index changes only under it
                existing = list_snapshots(output)
                self.index, note = DigestIndex.open_or_rebuild(output, [s.path for s in existing])
                self.index.prune({s.id for s in existing})
                # Revisits point only into this target's own snapshots (archive/dedup.py).
                target = self.config.target
                self.index.within(s.id for s in existing if s.manifest.get("target") == target)
            self.maker = SnapshotMaker(
                self.config, self.index, hints=self._hint, clock=self.clock, make_id=self.make_id
            )
            if note:
                self.outcome.notes.append(note)
                self.maker.notes.append(note)
            try:
                self._load_existing()
                self._loop()
                if self.family.left_out:
                    self.outcome.notes.append(
                        f"the page family has over {self.family.limit} URLs; not followed: "
                        + ", ".join(self.family.left_out[:5])
                        + (" ..." if len(self.family.left_out) > 5 else "")
                    )
                if self.family.out_of_scope:
                    self.outcome.notes.append(
                        "links out of scope not followed (allowed: "
                        f"{self.config.scope.describe()}; --allow-host adds a host): "
                        + ", ".join(self.family.out_of_scope[:5])
                        + (" ..." if len(self.family.out_of_scope) > 5 else "")
                    )
            finally:
                self.outcome.requests = self.client.requests
                self.index.close()
        return self.outcome

    def _loop(self) -> None:
        window = self.config.window
        for url in self.config.urls:
            self.family.add(url, anchor=True)
        while True:
            self._replay_known()
            if self._list_new():
                continue
            pending = self._pending()
            if not pending:
                return
            start = pending[0].time
            if self._read_anchors(until=start + 2 * window):
                continue
            late = [
                c
                for c in pending
                if c.time - start <= window and not self.family.relevant(c.key, c.time)
            ]
            if late:
                self.dropped.update(c.id for c in late)
                self.outcome.out_of_time += len(late)
                continue
            group = first_group(pending, window)
            if self._read(group):
                continue
            self._write(group)

    # -- what earlier backfills hold --------------------------------------------------------

    def _load_existing(self) -> None:
        """Captures earlier backfills into this folder used (from their manifests), the
        redirects they saw, and the links of the pages they read (from the page records)."""
        for info in list_snapshots(self.config.output):
            if info.manifest.get("origin") != "backfill":
                continue
            for item in info.manifest.get("captures") or []:
                try:
                    key = url_key(item["url"])
                    self.done.add((key, item["timestamp"]))
                    if item.get("location") and item.get("result") != "failed":
                        self.redirects[(key, item.get("digest"))] = item["location"]
                except (KeyError, TypeError):
                    continue  # a damaged entry: that capture is read again, nothing worse
            try:
                lines = (info.path / "records" / "pages.jsonl").read_bytes().splitlines()
            except OSError:
                continue
            for raw in lines:
                try:
                    page = json.loads(raw)
                    capture = page["capture"]
                    key, stamp = url_key(capture["original_url"]), capture["timestamp"]
                except (ValueError, KeyError, TypeError):
                    continue
                if page.get("status") == 200 and not page.get("error"):
                    self.known_pages.setdefault(key, {})[stamp] = PageLinks.of(
                        page.get("language"),
                        page.get("alternates") or {},
                        page.get("text_version_url"),
                        page.get("graphic_version_url"),
                    )

    def _replay_known(self) -> None:
        """What earlier snapshots (and this run) showed of the family's pages and redirects,
        applied as if read: known versions are found without a request. Idempotent."""
        changed = True
        while changed:
            changed = False
            for key in list(self.family.members):
                for (source, _digest), target in list(self.redirects.items()):
                    if source == key and self.family.saw_redirect(key, target):
                        changed = True
                for stamp, links in sorted(self.known_pages.get(key, {}).items()):
                    if self.family.saw_page(key, stamp, links):
                        changed = True

    # -- listing ---------------------------------------------------------------------------

    def _list_new(self) -> bool:
        listed = False
        for member in self.family.unlisted():
            self.reporter.progress(f"listing captures of {member.url}")
            member.listing = self.cdx.captures_of(member.url)
            kept = member.listing.captures
            already = sum(1 for c in kept if c.id in self.done)
            self.outcome.listed += len(kept)
            self.outcome.already += already
            self.outcome.impossible += member.listing.impossible
            self.outcome.out_of_scope += member.listing.out_of_scope
            line = f"  {member.listing.summary()}"
            if already:
                line += f"; {already} in earlier snapshots"
            self.reporter.progress(line)
            for note in member.listing.notes:  # what was cut: said now, and in the snapshot
                self.reporter.progress(f"note: {note}")
                self.outcome.notes.append(note)
                if self.maker is not None:
                    self.maker.notes.append(note)
            listed = True
        return listed

    def _pending(self) -> list[Capture]:
        out = []
        for member in self.family.members.values():
            if member.listing is None:
                continue
            for capture in member.listing.captures:
                if capture.id not in self.done and capture.id not in self.dropped:
                    out.append(capture)
        return sorted(out, key=lambda c: (c.timestamp, c.key))

    # -- reading ---------------------------------------------------------------------------

    def _read_anchors(self, until: datetime) -> bool:
        """Read the anchors' captures up to ``until``; True when the family grew."""
        for capture in self._pending():
            if capture.time > until:
                break
            member = self.family.members.get(capture.key)
            is_anchor = member is not None and member.anchor
            if is_anchor and capture.id not in self.reads and self._read_one(capture):
                return True
        return False

    def _read(self, group: list[Capture]) -> bool:
        """Read the group's captures; True when the family grew (the group may change)."""
        return any(capture.id not in self.reads and self._read_one(capture) for capture in group)

    def _read_one(self, capture: Capture) -> bool:
        got = self._obtain(capture)
        self.reads[capture.id] = got
        when = f"{capture.time:%Y-%m-%d %H:%M:%S}"
        if got.error:
            self.outcome.failed += 1
            self.reporter.progress(f"{when}  {capture.url}  failed: {got.error}")
            return False
        if got.location is not None and not self.config.scope.allows(got.location):
            # Never followed, whatever the archive holds there: a failure, not a page.
            got.error = (
                f"redirect out of scope: {capture.url} -> {got.location} (allowed: "
                f"{self.config.scope.describe()}; --allow-host adds a host)"
            )
            self.outcome.failed += 1
            self.reporter.progress(f"{when}  {capture.url}  failed: {got.error}")
            return False
        if got.location is not None:
            how = "read" if got.fetched_at else "known from an earlier snapshot"
            self.reporter.progress(f"{when}  {capture.url}  {got.status} -> {got.location} ({how})")
            self.redirects[(capture.key, capture.digest)] = got.location
            member = self.family.members.get(capture.key)
            grew = self.family.saw_redirect(capture.key, got.location)
            if (
                grew
                and member is not None
                and member.anchor
                and self.family.history.get(capture.key)
            ):
                # The start page itself now redirects: what it leads to counts as the page
                # from here on (a live crawl would follow it too).
                self.reporter.progress(
                    f"note: {capture.url} redirects to {got.location} from {when} on; its "
                    "captures count as the page's (bound the backfill with --to to leave "
                    "them out)"
                )
            return bool(grew)
        if got.held is not None:
            how = f"payload archived already (snapshot {got.held['snapshot_id']}), not fetched"
        else:
            check = "digest verified" if got.digest_verified else "digest NOT as listed"
            how = f"{len(got.body):,} bytes, {check}"
        self.reporter.progress(f"{when}  {capture.url}  {got.status}, {how}")
        if got.status >= 400 or got.content is None:
            return False
        page = extract_page(
            got.content,
            capture.url,
            status=got.status,
            headers=dict(got.headers),
            link_hint=self._hint(capture.key),
        )
        links = PageLinks.of(
            page.language, page.alternates, page.text_version_url, page.graphic_version_url
        )
        return bool(self.family.saw_page(capture.key, capture.timestamp, links))

    def _obtain(self, capture: Capture) -> Fetched:
        """The capture from our own archive when we hold it, else from the web archive."""
        url = replay_url(self.config.replay, capture.timestamp, capture.url)
        if capture.is_redirect and (capture.key, capture.digest) in self.redirects:
            self.outcome.known_redirects += 1
            target = self.redirects[(capture.key, capture.digest)]
            return Fetched(capture, url, status=capture.status or 0, location=target)
        if capture.digest and self.index is not None and not capture.is_redirect:
            try:
                original = self.index.lookup(capture.digest, capture.url)
            except Exception:  # a damaged index: the snapshot maker notes it
                original = None
            if original is not None:
                try:
                    got = read_held(self.config.output, Fetched(capture, url), original)
                    self.outcome.held += 1
                    return got
                except SnapshotError as exc:
                    self.outcome.notes.append(
                        f"{capture.url} {capture.timestamp}: our copy cannot be read ({exc}); "
                        "fetched from the archive instead"
                    )
        got = fetch_capture(self.client, self.config.replay, capture, self.clock)
        self.outcome.fetched += 1
        if got.archive_failed:
            self.server_errors += 1
            if self.server_errors >= SERVER_ERRORS_IN_A_ROW:
                last = "no whole answer in time" if got.unfinished else str(got.status)
                raise ArchiveError(
                    f"the archive's replay at {self.config.replay} is failing: "
                    f"{self.server_errors} captures in a row answered 5xx or not in time (the "
                    f"last: {last} for {got.replay_url}); stopped: run the same command "
                    "later, it resumes where it stopped"
                )
        else:
            self.server_errors = 0
        return got

    def _hint(self, key: str) -> str | None:
        member = self.family.members.get(key)
        return member.hint if member else None

    # -- writing ---------------------------------------------------------------------------

    def _write(self, group: list[Capture]) -> None:
        assert self.maker is not None
        reads = {c.id: self.reads[c.id] for c in group}
        written = self.maker.write(group, reads, self._not_captured(group, reads))
        if written.path is not None:
            self.outcome.written.append(written)
        else:
            self.outcome.not_written.append(written)
        self.reporter.snapshot(written)
        for capture in group:
            self.done.add(capture.id)
            self.reads.pop(capture.id, None)

    def _not_captured(
        self, group: list[Capture], reads: dict[tuple[str, str], Fetched]
    ) -> list[str]:
        """Versions linked from the group's captured pages (or redirects) that it lacks."""
        linked: dict[str, str] = {}
        for capture in group:
            got = reads[capture.id]
            if got.error:
                continue
            if got.location is not None:
                linked.setdefault(url_key(got.location), got.location)
                continue
            links = self.family.history.get(capture.key, {}).get(capture.timestamp)
            if links is None:
                continue
            for url in links.urls():
                linked.setdefault(url_key(url), url)
        captured = {c.key for c in group}
        return sorted(
            self.family.members[key].url
            for key in linked
            if key in self.family and key not in captured
        )


def describe(outcome: Outcome) -> str:
    """The run in one line."""
    parts = [
        f"{len(outcome.written)} snapshot(s) written",
        f"{outcome.fetched} capture(s) read from the archive",
    ]
    if outcome.held:
        parts.append(f"{outcome.held} taken from our own archive (payload known)")
    if outcome.already:
        parts.append(f"{outcome.already} already in earlier snapshots")
    if outcome.failed:
        parts.append(f"{outcome.failed} failed")
    if outcome.out_of_time:
        parts.append(f"{outcome.out_of_time} left out (versions not linked at their time)")
    if outcome.impossible:
        parts.append(f"{outcome.impossible} dated before 1991 or after now skipped")
    if outcome.out_of_scope:
        parts.append(f"{outcome.out_of_scope} on hosts out of scope skipped")
    if outcome.not_written:
        parts.append(f"{len(outcome.not_written)} group(s) with nothing readable")
    parts.append(f"{outcome.requests} request(s)")
    return "backfill: " + ", ".join(parts)
