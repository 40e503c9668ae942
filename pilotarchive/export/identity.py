"""Which entity a record is of, and which rendering it was read from.

Records are about to carry ``entity_id`` (one id for the same pilot, person or page family
across languages and renderings) and ``rendering`` (``page`` or ``text``). Until every
snapshot does, :func:`identity` computes both the way the diff does, so the export works
on old and new snapshots alike; once the fields are everywhere, its fallback can go.
"""

from typing import Any

from pilotarchive.diff.entities import entity_of, page_entity


def identity(kind: str, record: dict[str, Any], page: dict[str, Any] | None) -> tuple[str, str]:
    """``(entity_id, rendering)`` of a record; ``page`` is the page record it was read from
    (the record itself for a page).

    The fallback for pages takes the graphic page's URL for a text version, so that both
    renderings of one page are one entity, as the coming ``entity_id`` is. An error page
    (404) says nothing of what it was: the caller gives it the identity its URL had when
    it answered.
    """
    source = page if page is not None else record
    rendering = record.get("rendering") or ("text" if source.get("is_text_version") else "page")
    entity = record.get("entity_id")
    if not entity:
        if kind == "page" and record.get("is_text_version") and record.get("graphic_version_url"):
            entity = page_entity({"final_url": record["graphic_version_url"]})
        elif kind == "page":
            entity = page_entity({**record, "is_text_version": False})
        else:
            entity = entity_of(kind, record)
    return str(entity), rendering
