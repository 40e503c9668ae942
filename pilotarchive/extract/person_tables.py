"""Tables of persons, read by their column headings (Nimi, Nimike, Puhelin, Sähköposti).

A contact table says by its headings what each cell is, so nothing is guessed from the
cell's shape: a title the title tables do not know is still a title, a number written
without "puh." is still a phone, and the name's order (family name first or last, with
or without a comma) is read as in a written line, the table's unambiguous names deciding
the ambiguous ones. A table in the site's chrome (a footer's switchboard) is not read.
"""

from dataclasses import replace

import lxml.html

from pilotarchive.extract.contacts import Contact
from pilotarchive.extract.document import ChromeVerdicts, Document, block_lines, leading_text
from pilotarchive.extract.emails import find_emails, resolve_pattern
from pilotarchive.extract.names import PersonName, parse_person
from pilotarchive.extract.phones import find_phones, to_e164
from pilotarchive.extract.phrases import PERSON_COLUMNS, PILOT_COLUMNS

_CELLS = ("td", "th")


def _cells(row: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return [cell for cell in row if cell.tag in _CELLS]


def _columns(row: lxml.html.HtmlElement) -> list[str | None]:
    """What each column holds, by its heading; a heading is short, so only the first
    characters of a cell are read (a layout table's first cell may hold a whole page)."""
    return [PERSON_COLUMNS.get(leading_text(c, 40).lower().rstrip(": ")) for c in _cells(row)]


def _text(cell: lxml.html.HtmlElement) -> str:
    return ", ".join(block_lines(cell, False))


def _phone(text: str) -> str | None:
    found = find_phones(text)
    if found:
        return found[0][0]
    digits = text.strip(" ,")
    return to_e164(digits) if digits and sum(ch.isdigit() for ch in digits) >= 6 else None


def _email(text: str, person: PersonName) -> tuple[str | None, str | None]:
    for found in find_emails(text):
        if found.address:
            return found.address, found.source
        if found.pattern:
            return resolve_pattern(found.pattern, person.given_name, person.family_name), "pattern"
    return None, None


def _person(cells: dict[str, str], language: str | None, split: bool) -> PersonName | None:
    """The row's person; with the name in two columns, the columns say which is which."""
    if split:
        given, family = " ".join(cells["given"].split()), " ".join(cells["family"].split())
        return PersonName(given, family, None, "given-family", False)
    return parse_person(cells["name"], language)


def _pilot_column(row: lxml.html.HtmlElement) -> bool:
    """Whether a table's first row heads a column of pilots ("Pilotti", "Theme")."""
    return any(
        PILOT_COLUMNS.get(leading_text(c, 40).lower().rstrip(": ")) == "theme" for c in _cells(row)
    )


def read_table(
    table: lxml.html.HtmlElement, language: str | None, role: str
) -> list[Contact] | None:
    """The persons of ``table`` when its first row heads a name column and another of a
    person's columns; None when it is no table of persons."""
    first = next(table.iter("tr"), None)
    if first is None or len(first) < 2:
        return None
    columns = _columns(first)
    split = "name" not in columns and {"given", "family"} <= set(columns)
    if ("name" not in columns and not split) or not {"title", "phone", "email"} & set(columns):
        return None
    if _pilot_column(first):
        return None  # the pilots' contacts, by pilot: read with the pilots (pilots.py)
    rows = [row for row in table.iter("tr") if _cells(row)]
    entries = []
    for row in rows[1:]:
        cells = {col: _text(c) for col, c in zip(columns, _cells(row), strict=False) if col}
        if split and cells.get("given") and cells.get("family"):
            cells["name"] = f"{cells['given']} {cells['family']}"
        if not cells.get("name"):
            continue
        entries.append(cells)
    people = [_person(cells, language, split) for cells in entries]
    orders = [p.order for p in people if p and not p.ambiguous and p.order != "family-comma-given"]
    majority = max(sorted(set(orders)), key=orders.count) if orders else None
    contacts = []
    for cells, person in zip(entries, people, strict=True):
        if person is not None and person.ambiguous and majority:
            person = parse_person(cells["name"], language, majority)
        if person is None:
            continue
        if cells.get("title"):
            person = replace(person, title=cells["title"])
        email, source = _email(cells.get("email", ""), person)
        phone = _phone(cells.get("phone", ""))
        contacts.append(Contact(person, email, source, phone, None, role))
    return contacts


def person_tables(
    doc: Document, language: str | None, role: str
) -> list[tuple[lxml.html.HtmlElement, list[Contact]]]:
    """Every table of persons on the page outside the site's chrome, with its persons."""
    body = doc.root.find("body")
    in_chrome = ChromeVerdicts()
    found = []
    for table in (body if body is not None else doc.root).iter("table"):
        contacts = read_table(table, language, role)
        if contacts is not None and not in_chrome(table):
            found.append((table, contacts))
    return found
