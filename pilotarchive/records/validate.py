"""JSON Schema validation of records and manifests against ``schemas/``.

The schemas are the public contract, so records are checked against the files users read,
loaded once and shared through a ``referencing`` registry (they refer to common.schema.json).

jsonschema is the validator of record: its errors are what a rejected record carries and
what ``pilotarchive validate`` reports. But it costs about a millisecond per record, more
than the rest of a page's processing, so the crawl asks first a validator compiled to
Python by fastjsonschema (0.05 ms) from the same schema with its references inlined; only a
record that one does not pass goes to jsonschema, whose verdict counts. A record is
therefore never accepted that jsonschema would reject, as long as the compiled validator
accepts no more than jsonschema does (a differential test checks that).
"""

import copy
import json
from collections.abc import Callable, Iterator
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from pilotarchive.exceptions import SchemaError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
RECORD_SCHEMAS = {"page": "page", "pilot": "pilot", "contact": "contact"}


def schema_dir() -> Path:
    if SCHEMA_DIR.is_dir():
        return SCHEMA_DIR
    raise SchemaError(f"schema folder {SCHEMA_DIR} is missing: reinstall pilotarchive")


def _schema_files() -> Iterator[Traversable]:
    """The schema files: from the folder, or, when pilotarchive runs from a zipped egg (as
    scrapyd runs a deployed project), from the package's resources inside it."""
    root: Traversable = SCHEMA_DIR if SCHEMA_DIR.is_dir() else files("pilotarchive") / "schemas"
    if not root.is_dir():
        schema_dir()  # raises: the schemas are missing
    for folder in (root, root / "versions"):
        if folder.is_dir():
            yield from (f for f in folder.iterdir() if f.name.endswith(".schema.json"))


@cache
def _registry() -> tuple[Registry, dict[str, dict[str, Any]]]:
    schemas: dict[str, dict[str, Any]] = {}
    registry: Registry = Registry()
    # The current schemas, and in versions/ the earlier versions still in use by older
    # snapshots (named "<name>-<version>").
    for path in sorted(_schema_files(), key=lambda p: str(p)):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SchemaError(f"cannot read schema {path}: {exc}") from exc
        schemas[path.name.removesuffix(".schema.json")] = schema
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    return registry, schemas


@cache
def validator(name: str) -> Draft202012Validator:
    registry, schemas = _registry()
    if name not in schemas:
        raise SchemaError(f"no schema named {name!r} in {SCHEMA_DIR}")
    return Draft202012Validator(
        schemas[name], registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def schema_version(name: str) -> str:
    return _registry()[1][name]["version"]


def versioned(name: str, version: str | None) -> str:
    """The schema a record written under ``version`` must match: current, or an older one."""
    schemas = _registry()[1]
    if version and version != schemas[name]["version"] and f"{name}-{version}" in schemas:
        return f"{name}-{version}"
    return name


def errors_for(instance: Any, name: str) -> list[dict[str, str]]:
    """Every error as ``{"pointer": "/contact/email", "message": ...}``, stable order."""
    out = []
    for error in validator(name).iter_errors(instance):
        pointer = "".join(
            "/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path
        )
        out.append({"pointer": pointer or "/", "message": error.message})
    return sorted(out, key=lambda e: (e["pointer"], e["message"]))


def inline_schema(name: str) -> dict[str, Any]:
    """The schema with every ``$ref`` (to itself or to common.schema.json) replaced by what
    it points at: one self-contained document, as a code-generating validator needs."""
    _, schemas = _registry()
    by_id = {schema["$id"]: key for key, schema in schemas.items()}

    def document(ref: str, base: str) -> str:
        if not ref:
            return base
        if ref in by_id:
            return by_id[ref]
        for key, schema in schemas.items():  # a relative reference: same folder as base
            if schema["$id"].rsplit("/", 1)[-1] == ref and (
                schema["$id"].rsplit("/", 1)[0] == schemas[base]["$id"].rsplit("/", 1)[0]
            ):
                return key
        raise SchemaError(f"schema {base}: cannot resolve $ref {ref!r}")

    def resolve(node: Any, base: str) -> Any:
        if isinstance(node, list):
            return [resolve(x, base) for x in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            doc, _, fragment = node["$ref"].partition("#")
            key = document(doc, base)
            target: Any = schemas[key]
            for part in filter(None, fragment.split("/")):
                target = target[part]
            resolved = resolve(copy.deepcopy(target), key)
            rest = {k: resolve(v, base) for k, v in node.items() if k != "$ref"}
            return {"allOf": [resolved, rest]} if rest else resolved
        return {k: resolve(v, base) for k, v in node.items() if k not in ("$defs", "$id")}

    out = resolve(copy.deepcopy(schemas[name]), name)
    out["$schema"] = "http://json-schema.org/draft-07/schema#"  # what fastjsonschema knows
    return out


@cache
def _fast(name: str) -> Callable[[Any], Any]:
    return fastjsonschema.compile(inline_schema(name))


def record_errors(record: dict[str, Any]) -> list[dict[str, str]]:
    kind = record.get("record_type")
    if kind not in RECORD_SCHEMAS:
        return [{"pointer": "/record_type", "message": f"unknown record type {kind!r}"}]
    name = versioned(RECORD_SCHEMAS[kind], record.get("schema_version"))
    try:
        _fast(name)(record)
        return []
    except fastjsonschema.JsonSchemaException:
        return errors_for(record, name)  # the verdict and the words of the contract
