"""Identity reads records cut to the fields it uses (identity/records.py): what it never
reads is dropped as each line is read, so a 20,000-page crawl's commit does not hold every
field of every record. Two checks that the cut changes nothing: every record field the
identity modules name is kept, and an archive's register is the same, file for file, when
built from whole records."""

import ast
import json
import shutil
from pathlib import Path

import pytest

import pilotarchive.identity.register as register_module
from pilotarchive.archive.snapshot import list_snapshots
from pilotarchive.identity import assign, register
from pilotarchive.identity.records import IDENTITY_FIELDS, identity_records
from pilotarchive.records import entities

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
FIXTURES = Path(__file__).parent / "fixtures" / "archives"
# The modules that read records to assign them; records.ids gives them only text and URL
# helpers (normalise_text, page_key), which name no field.
READERS = (assign, register, entities)
# Names the readers use that are also record fields, but not as fields of a record:
NOT_RECORD_READS = {
    "snapshot_id": "the key of an assignment file and of the register's entities",
    "notes": "an assignment's notes (near matches not taken), not a page's notes",
    "records": "an assignment file's map of record ids",
    "unchanged": "how a record was matched (Match.how), not the record's own flag",
}


def _record_fields() -> set[str]:
    """Every property name the record schemas define, at any depth (a pilot's contact's
    fields too), the shared definitions included."""
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            names.update(node.get("properties", {}) if isinstance(node.get("properties"), dict)
                         else ())  # fmt: skip
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for kind in ("page", "pilot", "contact", "common"):
        walk(json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8")))
    return names


def _strings(module: object) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    return {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def test_every_field_the_identity_modules_name_is_kept() -> None:
    """A field named anywhere in assign, register or records.entities (``r.get("phone")``,
    ``values("email")``, an f-string's ``record.get('given_name')``) is in IDENTITY_FIELDS.
    Removing "phone" from IDENTITY_FIELDS fails this test: checked."""
    fields = _record_fields()
    assert {"id", "phone", "given_name", "municipalities"} <= fields  # the schemas were read
    named = set().union(*(_strings(m) for m in READERS)) & fields
    missing = sorted(named - IDENTITY_FIELDS - set(NOT_RECORD_READS))
    assert not missing, f"identity reads fields that identity_records drops: {missing}"
    unknown = sorted(IDENTITY_FIELDS - fields)
    assert not unknown, f"IDENTITY_FIELDS names no record field: {unknown}"


def _build(output: Path, whole: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Every file of the registers of ``output``'s targets, built from scratch."""
    with monkeypatch.context() as m:
        if whole:
            m.setattr(register_module, "identity_records", lambda p: identity_records(p, True))
        for target in sorted({s.target for s in list_snapshots(output)}, key=str):
            register.ensure_register(output, target, rebuild=True)
    root = output / "identity"
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*.json"))}


def _same_register(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    built = {}
    for whole in (False, True):
        copy = tmp_path / f"whole-{whole}"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("identity"))
        built[whole] = _build(copy, whole, monkeypatch)
    assert built[False] == built[True]
    return len(built[False])


def test_an_archive_is_assigned_the_same_from_cut_records(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four crawls of the replica's history (revisits, a degraded snapshot between two
    healthy ones): the same register, assignment file for assignment file."""
    assert _same_register(archive, tmp_path, monkeypatch) >= 5  # register + 4 snapshots


@pytest.mark.parametrize("release", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_older_releases_archives_are_assigned_the_same(
    release: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _same_register(FIXTURES / release, tmp_path, monkeypatch) >= 2


def test_the_cut_keeps_only_identity_fields(archive: Path) -> None:
    snapshot = list_snapshots(archive)[-1].path
    cut, whole = identity_records(snapshot), identity_records(snapshot, whole=True)
    for kind in cut:
        assert len(cut[kind]) == len(whole[kind])
        for small, full in zip(cut[kind], whole[kind], strict=True):
            assert small == {k: v for k, v in full.items() if k in IDENTITY_FIELDS}
            assert "warc_offset" not in small and "fingerprint" not in small
