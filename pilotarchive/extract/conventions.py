"""URLs built by convention, for versions a page does not link to; and back again.

A crawl follows the language and text versions a page links to (or declares with
``hreflang``). Only when a page gives no link for a version is a URL built by the site's
conventions (``?l=sv``, ``/sv/``, ``text.phtml``, ``tv=1``), and such a URL is a guess: the
extraction reports it apart from the linked ones, the crawl marks the request, and a 404
for it means "no such version", not a failed page. The conventions live in phrases.py.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pilotarchive.extract.phrases import (
    LANGUAGE_PATH_PREFIXES,
    LANGUAGE_QUERY_KEYS,
    LANGUAGES,
    TEXT_VERSION_PATHS,
    TEXT_VERSION_QUERY,
)

_PREFIX_OF = {lang: prefix for prefix, lang in reversed(LANGUAGE_PATH_PREFIXES.items())}


def language_url(url: str, language: str) -> str | None:
    """``url`` as the ``language`` version by the site's conventions; None if unknown.

    A language parameter already in the query is set to ``language``; a language prefix of
    the path is swapped; otherwise the first parameter name of the conventions is added.
    """
    if language not in LANGUAGES:
        return None
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    keys = [k for k, _ in query]
    for key in LANGUAGE_QUERY_KEYS:
        if key in keys:
            query = [(k, language if k == key else v) for k, v in query]
            return urlunsplit(parts._replace(query=urlencode(query), fragment=""))
    path = parts.path
    for prefix in LANGUAGE_PATH_PREFIXES:
        if path.startswith(prefix):
            path = _PREFIX_OF[language] + path[len(prefix) :]
            return urlunsplit(parts._replace(path=path, fragment=""))
    query.insert(0, (LANGUAGE_QUERY_KEYS[0], language))
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def text_version_url(url: str) -> str | None:
    """The text version of ``url`` by the site's conventions; None if ``url`` is one.

    The query parameter is set, never added a second time: ``tv=0`` becomes ``tv=1``, and a
    URL with ``tv=1`` already is the text version by this convention (guessing
    ``tv=1&tv=1`` from it asks a server that ignores the repeat for the same page again).
    """
    parts = urlsplit(url)
    for graphic, text in TEXT_VERSION_PATHS.items():
        if parts.path.endswith(graphic):
            path = parts.path[: len(parts.path) - len(graphic)] + text
            return urlunsplit(parts._replace(path=path, fragment=""))
    query = parse_qsl(parts.query, keep_blank_values=True)
    key, value = TEXT_VERSION_QUERY
    if (key, value) in query:
        return None
    if any(k == key for k, _ in query):
        query = [(k, value if k == key else v) for k, v in query]
    else:
        query.append(TEXT_VERSION_QUERY)
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def graphic_version_url(url: str) -> str:
    """The graphic version of a text version's URL, by the same conventions, reversed."""
    parts = urlsplit(url)
    for graphic, text in TEXT_VERSION_PATHS.items():
        if parts.path.endswith(text):
            path = parts.path[: len(parts.path) - len(text)] + graphic
            return urlunsplit(parts._replace(path=path, fragment=""))
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if (k, v) != TEXT_VERSION_QUERY]
    return urlunsplit(parts._replace(query=urlencode(kept), fragment=""))
