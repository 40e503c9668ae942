"""Which language a page is in, from the strongest evidence present.

The order is the markup (``lang``/``xml:lang``), the Content-Language header, the link that
led to the page, the URL's conventions (``?l=sv``, ``/en/``), and the words of the text only
as a last resort. The result names its source so a wrong guess can be traced.
"""

import re
from urllib.parse import parse_qs, urlsplit

from pilotarchive.extract.phrases import (
    LANGUAGE_PATH_PREFIXES,
    LANGUAGE_QUERY_KEYS,
    LANGUAGES,
    STOPWORDS,
)

_WORD = re.compile(r"[a-zåäö]+")


def normalise_tag(tag: str | None) -> str | None:
    """``sv-FI`` -> ``sv``; unknown languages -> None."""
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-")[0].split(",")[0].strip()
    return primary if primary in LANGUAGES else None


def language_from_url(url: str) -> str | None:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    for key in LANGUAGE_QUERY_KEYS:
        for value in query.get(key, ()):
            if lang := normalise_tag(value):
                return lang
    path = parts.path.lower()
    for prefix, lang in LANGUAGE_PATH_PREFIXES.items():
        if path.startswith(prefix):
            return lang
    return None


def language_from_text(text: str) -> str | None:
    scores = dict.fromkeys(LANGUAGES, 0)
    for word in _WORD.findall(text[:5000].lower()):
        for lang, words in STOPWORDS.items():
            if word in words:
                scores[lang] += 1
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] > 0 else None


def detect_language(
    *,
    html_lang: str | None,
    content_language: str | None,
    link_hint: str | None,
    url: str,
    text: str,
) -> tuple[str | None, str]:
    """Return ``(language, source)``; ``source`` names the evidence used."""
    for value, source in (
        (html_lang, "html-lang"),
        (content_language, "content-language"),
        (link_hint, "link"),
    ):
        if lang := normalise_tag(value):
            return lang, source
    if lang := language_from_url(url):
        return lang, "url"
    if lang := language_from_text(text):
        return lang, "text"
    return None, "none"
