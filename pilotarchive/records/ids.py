"""Stable record ids: the same entity in the next snapshot gets the same id.

Ids come from normalised content (the page's URL without its host, the pilot's theme, the
person's name), never from crawl order or time, so snapshots can be diffed by id. The host
is left out so a crawl of the replica, of the live site or of a web-archive capture of it
names the same page the same way.
"""

import hashlib
import json
import re
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

_ARCHIVE_PREFIX = re.compile(r"^/web/\d{1,14}[a-z_]*/(?P<original>https?://.+)$")


def normalise_text(text: str | None) -> str:
    """Case, accents, punctuation and spacing folded away."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


@lru_cache(maxsize=4096)  # a page's records name its URLs a few times; 65,536 was 16 MB
def page_key(url: str) -> str:
    """Path and sorted query of a URL; web-archive captures map to the original URL."""
    parts = urlsplit(url)
    path = parts.path
    if m := _ARCHIVE_PREFIX.match(path + (f"?{parts.query}" if parts.query else "")):
        return page_key(m.group("original"))
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return (path or "/") + (f"?{query}" if query else "")


def make_id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:16]}"


def page_id(url: str) -> str:
    return make_id("page", page_key(url))


def pilot_id(page: str, kind: str, theme: str | None, coordinator: str | None) -> str:
    return make_id("pilot", page, kind, normalise_text(theme) or normalise_text(coordinator))


def contact_id(page: str, role: str, pilot: str | None, given: str, family: str) -> str:
    return make_id("contact", page, role, pilot or "", normalise_text(f"{given} {family}"))


# Fields that say how and when a record was fetched, not what the page says: they differ
# between two snapshots of an unchanged page and never make a change.
VOLATILE_FIELDS = frozenset(
    {
        "snapshot_id",
        "retrieved_at",
        "unchanged",
        "carried_over_from",
        "fetch_status",
        "http_etag",
        "http_last_modified",
        "redirects",
        "warc_filename",
        "warc_record_id",
        "warc_offset",
        "warc_date",
        "warc_record_type",
        "warc_payload_digest",
        "warc_refers_to",
        "capture",  # a backfilled page's web-archive capture: where, not what
        "fingerprint",
        "schema_version",
        "position",
        "content_length",
        "encoding",
        "language_source",
    }
)
# Fields holding URLs: compared by path and query, so a change of host (the live site, a
# web-archive capture, the replica on another port) is not a change of the page.
URL_FIELDS = frozenset(
    {"url", "final_url", "source_url", "text_version_url", "graphic_version_url"}
)


def comparable(record: dict) -> dict:
    """The record as diffs and fingerprints see it: volatile fields out, URLs host-free."""
    out = {}
    for key, value in record.items():
        if key in VOLATILE_FIELDS:
            continue
        if key in URL_FIELDS and isinstance(value, str):
            value = page_key(value)
        elif key == "alternates" and isinstance(value, dict):
            value = {lang: page_key(url) for lang, url in value.items()}
        out[key] = value
    return out


def fingerprint(record: dict) -> str:
    """A hash of what the record says: equal fingerprints, no change to report."""
    canonical = json.dumps(
        comparable(record), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
