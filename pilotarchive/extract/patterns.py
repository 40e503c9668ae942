"""Case-insensitive matching of the phrase tables, at case-sensitive speed.

Python's ``re.IGNORECASE`` on patterns with Finnish and Swedish letters costs about twice a
case-sensitive match, and the phrase tables are matched against every line of every page.
The tables are lower-case, so the text is lower-cased once and matched case-sensitively;
spans stay valid for the original text because lower-casing these scripts keeps lengths
(when it does not, the slow path is taken). Callers slice the original text by span.
"""

import re
from collections.abc import Callable, Iterable, Iterator

_last: tuple[str, str] = ("", "")


def lowered(text: str) -> str:
    """``text.lower()``, remembered for the last text: several tables are matched in turn
    against one page's text, and lower-casing 20 KiB of Finnish costs as much as a search."""
    if len(text) < 4096:  # a line or a sentence: cheap, and must not evict the page's text
        return text.lower()
    global _last
    last = _last
    if last[0] is text:
        return last[1]
    low = text.lower()
    _last = (text, low)
    return low


_last_lines: tuple[list[str], str] = ([], "")


def joined(lines: list[str]) -> str:
    """A page's lines as one text, one per line, remembered for the last list of lines: the
    programme and the project are both searched for in the whole text, and the same string
    object lets :func:`lowered` lower-case it once. (A document's lines never change once
    read.)"""
    global _last_lines
    last = _last_lines
    if last[0] is lines:
        return last[1]
    text = "\n".join(lines)
    _last_lines = (lines, text)
    return text


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
