"""Where a key stands in a TOML file, so a configuration error can name its line.

``tomllib`` gives values without positions. Rather than bring in a second TOML library for
line numbers, this scans the (already parsed, so valid) source once and records the line of
every table, key, array item and inline-table key, by path: ``("target", 0, "subscribers",
1, "language")``. A path not found falls back to its closest recorded parent.
"""

from typing import Any

Path = tuple[str | int, ...]


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self.tables: dict[Path, int] = {}  # array-of-tables path -> count so far

    # -- characters ----------------------------------------------------------------------

    def peek(self, n: int = 1) -> str:
        return self.s[self.i : self.i + n]

    def advance(self, n: int = 1) -> None:
        chunk = self.s[self.i : self.i + n]
        self.line += chunk.count("\n")
        self.i += n

    def skip_blank(self, newlines: bool) -> None:
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.advance()
            elif ch == "#":
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.advance()
            else:
                return

    # -- pieces --------------------------------------------------------------------------

    def string(self) -> str:
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                end = self.s.index(quote, self.i + 3)
                while self.s[end + 3 : end + 4] == quote[0]:  # up to two quotes may close it
                    end += 1
                text = self.s[self.i + 3 : end]
                self.advance(end + 3 - self.i)
                return text
        quote = self.s[self.i]
        j = self.i + 1
        while self.s[j] != quote:
            j += 2 if quote == '"' and self.s[j] == "\\" else 1
        text = self.s[self.i + 1 : j]
        self.advance(j + 1 - self.i)
        return text

    def key(self) -> list[str]:
        parts = []
        while True:
            self.skip_blank(False)
            if self.peek() in ('"', "'"):
                parts.append(self.string())
            else:
                j = self.i
                while j < len(self.s) and (self.s[j].isalnum() or self.s[j] in "_-"):
                    j += 1
                parts.append(self.s[self.i : j])
                self.advance(j - self.i)
            self.skip_blank(False)
            if self.peek() != ".":
                return parts
            self.advance()

    def value(self, path: Path) -> None:
        ch = self.peek()
        if ch in ('"', "'"):
            self.string()
        elif ch == "[":
            self.advance()
            index = 0
            while True:
                self.skip_blank(True)
                if self.peek() == "]":
                    self.advance()
                    return
                self.lines.setdefault((*path, index), self.line)
                self.value((*path, index))
                self.skip_blank(True)
                if self.peek() == ",":
                    self.advance()
                    index += 1
        elif ch == "{":
            self.advance()
            while True:
                self.skip_blank(False)
                if self.peek() == "}":
                    self.advance()
                    return
                line = self.line
                keys = self.key()
                self.lines.setdefault((*path, *keys), line)
                self.advance()  # "="
                self.skip_blank(False)
                self.value((*path, *keys))
                self.skip_blank(False)
                if self.peek() == ",":
                    self.advance()
        else:
            while self.i < len(self.s) and self.s[self.i] not in ",]}\n#":
                self.advance()

    def within(self, keys: list[str]) -> Path:
        """A header's keys as a path: ``[[target.rules.pilot]]`` under the second
        ``[[target]]`` is ``("target", 1, "rules", "pilot")``."""
        out: list[str | int] = []
        for key in keys:
            out.append(key)
            if (count := self.tables.get(tuple(out))) is not None:
                out.append(count - 1)
        return tuple(out)

    def document(self) -> dict[Path, int]:
        current: Path = ()
        while True:
            self.skip_blank(True)
            if self.i >= len(self.s):
                return self.lines
            line = self.line
            if self.peek(2) == "[[":
                self.advance(2)
                named = self.key()
                keys = (*self.within(named[:-1]), named[-1])
                self.advance(2)
                index = self.tables.get(keys, 0)
                self.tables[keys] = index + 1
                self.lines.setdefault(keys, line)
                current = (*keys, index)
                self.lines.setdefault(current, line)
            elif self.peek() == "[":
                self.advance()
                current = self.within(self.key())
                self.advance()
                self.lines.setdefault(current, line)
            else:
                names = self.key()
                self.lines.setdefault((*current, *names), line)
                self.advance()  # "="
                self.skip_blank(False)
                self.value((*current, *names))


def key_lines(text: str) -> dict[Path, int]:
    """Every path's line; an empty map when the text cannot be scanned (never an error)."""
    try:
        return _Scanner(text).document()
    except (IndexError, ValueError):
        return {}


def line_of(lines: dict[Path, int], path: Any) -> int | None:
    """The line of ``path``, or of its closest parent that has one."""
    parts = tuple(path)
    while parts:
        if parts in lines:
            return lines[parts]
        parts = parts[:-1]
    return None


def dotted(path: Any) -> str:
    """``("target", 0, "schedule")`` as ``target[0].schedule``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
