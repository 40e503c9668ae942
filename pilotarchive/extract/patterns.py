"""Case-insensitive matching of the phrase tables, at case-sensitive speed.

Python's ``re.IGNORECASE`` on patterns with Finnish and Swedish letters costs about twice a
case-sensitive match, and the phrase tables are matched against every line of every page.
The tables are lower-case, so the text is lower-cased once and matched case-sensitively;
spans stay valid for the original text because lower-casing these scripts keeps lengths
(when it does not, the slow path is taken). Callers slice the original text by span.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def _remember_last(fn: Callable[[Any], T]) -> Callable[[Any], T]:
    """``fn`` that gives its last result again for the same argument (the same object):
    several phrase tables are matched in turn against one page's text. (A page's text and
    lines never change once read, so identity is enough.)"""
    last: list[Any] = [None, None]

    def remembered(arg: Any) -> T:
        if last[0] is not arg:
            last[0], last[1] = arg, fn(arg)
        return last[1]

    return remembered


@_remember_last
def _lower_page(text: str) -> str:
    return text.lower()


def lowered(text: str) -> str:
    """``text.lower()``; a page's whole text is lower-cased once for every table (20 KiB of
    Finnish costs as much to lower-case as a search). A line or a sentence is cheap, and
    must not evict the page's text."""
    return text.lower() if len(text) < 4096 else _lower_page(text)


@_remember_last
def joined(lines: list[str]) -> str:
    """A page's lines as one text, one per line: the programme and the project are both
    looked for in the whole text, and the same string object lets :func:`lowered` work
    once."""
    return "\n".join(lines)


class Phrases:
    """A compiled pattern whose literals are lower-case."""

    __slots__ = ("_ci", "_cs")

    def __init__(self, source: str) -> None:
        self._cs = re.compile(source)
        self._ci = re.compile(source, re.IGNORECASE)

    def _target(self, text: str) -> tuple[re.Pattern[str], str]:
        low = lowered(text)
        return (self._cs, low) if len(low) == len(text) else (self._ci, text)

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        pattern, target = self._target(text)
        return pattern.search(target, pos)

    def match(self, text: str) -> re.Match[str] | None:
        pattern, target = self._target(text)
        return pattern.match(target)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        pattern, target = self._target(text)
        return pattern.finditer(target)


class WordPhrases(Phrases):
    """A :class:`Phrases` pattern whose match must begin a word.

    The check is made in Python on each match, not by a leading look-behind: a pattern that
    begins with a look-behind is tried at every position of the text, one that begins with
    its phrases' first letters is scanned for in C. A rejected match is retried one
    character later, so a phrase inside it is still found.
    """

    __slots__ = ()

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        pattern, target = self._target(text)
        while (m := pattern.search(target, pos)) is not None:
            start = m.start()
            if start == 0 or not _word_char(target[start - 1]):
                return m
            pos = start + 1
        return None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        pattern, target = self._target(text)
        pos = 0
        while (m := pattern.search(target, pos)) is not None:
            start = m.start()
            if start == 0 or not _word_char(target[start - 1]):
                yield m
                pos = m.end() if m.end() > start else start + 1
            else:
                pos = start + 1


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def alternation(phrases: Iterable[str]) -> str:
    """Longest first, so that "sivua viimeksi päivitetty" wins over "päivitetty"."""
    return "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))


def trie_pattern(words: Iterable[str], piece: Callable[[str], str] = re.escape) -> str:
    """An alternation of ``words`` as a trie ("lisätiedo(?:t|ja)"): the regex engine then
    reads each character once instead of trying every word in turn, which matters when
    the pattern is tried at many places of a page. ``piece`` turns a character into a
    pattern (``re.escape`` by default)."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [piece(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)
