"""What a card may hold: field shapes and size limits, checked before anything is stored.

`card_fields_clean` is the one gate for every write (the JSON API and the README import both pass
through it); a bad value is an InvalidInput (400) naming the field. It also normalises, the same way
the README import does, so that export then import gives back exactly the stored fields:
surrounding blank lines are trimmed, an unclosed code fence at the end of a text is closed, and a
name list given as one string becomes a list of one.
"""

import json

from registry.cards.markdown import close_open_blocks, top_headings
from registry.cards.sections import section_for_heading, sections_for
from registry.kernel.errors import InvalidInput
from registry.kernel.lib.json_input import JSONRejected, check_json_document

SECTION_MAX_BYTES = 64 * 1024
BODY_MAX_BYTES = 256 * 1024
STRUCTURED_MAX_BYTES = 128 * 1024  # model_index and extra, each as compact JSON
SHORT_TEXT_MAX_CHARS = 100  # license, library_name, pipeline_tag
NAME_MAX_CHARS = 200  # one tag, dataset, metric or base model
NAMES_MAX_ITEMS = 100

TEXT_FIELDS = ("license", "library_name", "pipeline_tag")
NAME_LIST_FIELDS = ("tags", "datasets", "metrics", "base_model")
CARD_FIELDS = ("sections", "body", *TEXT_FIELDS, *NAME_LIST_FIELDS, "model_index", "extra")
# Front-matter key -> card field, for the keys that have a field of their own.
FRONT_MATTER_FIELDS = {**{name: name for name in (*TEXT_FIELDS, *NAME_LIST_FIELDS)}, "model-index": "model_index"}


class WrongShape(InvalidInput):
    """A value of the wrong type for its field (the README import keeps such values in `extra`)."""


def empty_card_fields() -> dict:
    return {
        "sections": {},
        "body": "",
        **dict.fromkeys(TEXT_FIELDS, ""),
        **{f: [] for f in NAME_LIST_FIELDS},
        "model_index": [],
        "extra": {},
    }


def _check_text(value: str, field: str) -> None:
    try:
        check_json_document(value)
    except JSONRejected as exc:
        raise InvalidInput(f"{field}: {str(exc).replace('the document', 'the text')}", field=field) from None


def _check_size(value, field: str, limit: int) -> None:
    size = len(
        (value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)).encode()
    )
    if size > limit:
        raise InvalidInput(f"{field}: {size} bytes is over the limit of {limit} bytes.", field=field)


def trim_block(text: str) -> str:
    """Markdown without leading blank lines or trailing whitespace (leading indentation matters)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines).rstrip()


def _markdown(value, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WrongShape(f"{field}: must be Markdown text.", field=field)
    _check_size(value, field, limit)
    _check_text(value, field)
    text = trim_block(value)
    closed = close_open_blocks(text) if text else text
    if closed is None:
        raise InvalidInput(f"{field}: ends inside an unclosed HTML block; close it.", field=field)
    _check_size(closed, field, limit)
    return closed


def clean_text(value, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WrongShape(f"{field}: must be a string.", field=field)
    _check_text(value, field)
    value = value.strip()
    if len(value) > SHORT_TEXT_MAX_CHARS or "\n" in value:
        raise InvalidInput(f"{field}: must be one line of at most {SHORT_TEXT_MAX_CHARS} characters.", field=field)
    return value


def clean_names(value, field: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise WrongShape(f"{field}: must be a list of strings.", field=field)
    if len(items) > NAMES_MAX_ITEMS:
        raise InvalidInput(f"{field}: at most {NAMES_MAX_ITEMS} entries, got {len(items)}.", field=field)
    names = []
    for item in items:
        _check_text(item, field)
        name = item.strip()
        if not name or len(name) > NAME_MAX_CHARS or "\n" in name:
            raise InvalidInput(f"{field}: each entry is one line of 1 to {NAME_MAX_CHARS} characters.", field=field)
        names.append(name)
    return names


def clean_model_index(value) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise WrongShape("model_index: must be a list (Hugging Face's model-index).", field="model_index")
    _check_structured(value, "model_index")
    return value


def _check_structured(value, field: str) -> None:
    try:
        check_json_document(value)
    except JSONRejected as exc:
        raise InvalidInput(f"{field}: {exc}", field=field) from None
    _check_size(value, field, STRUCTURED_MAX_BYTES)


def clean_front_matter_value(field: str, value):
    """The value of a front-matter field in its stored form; WrongShape if it has another type."""
    if field in TEXT_FIELDS:
        return clean_text(value, field)
    if field in NAME_LIST_FIELDS:
        return clean_names(value, field)
    return clean_model_index(value)


def _clean_sections(value, kind: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("sections: must be an object of section key to Markdown.", field="sections")
    allowed = sections_for(kind)
    sections = {}
    for key, text in value.items():
        if key not in allowed:
            raise InvalidInput(
                f"sections: {str(key)[:40]!r} is not a section of a {kind} card; its sections are "
                f"{', '.join(allowed)}.",
                field="sections",
            )
        text = _markdown(text, f"sections.{key}", SECTION_MAX_BYTES)
        if top_headings(text):
            raise InvalidInput(
                f"sections.{key}: use headings of level 3 (###) or lower inside a section; "
                "level 1 and 2 headings separate the sections of a README.",
                field="sections",
            )
        if text.strip():
            sections[key] = text
    return {key: sections[key] for key in allowed if key in sections}


def _clean_body(value, kind: str) -> str:
    body = _markdown(value, "body", BODY_MAX_BYTES)
    for level, _, _, heading in top_headings(body):
        key = section_for_heading(kind, heading) if level == 2 else None
        if key is not None:
            raise InvalidInput(
                f"body: the heading '## {heading[:60]}' names the section '{key}'; put that text in sections.{key}.",
                field="body",
            )
    return body


def _clean_extra(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("extra: must be an object of front-matter keys.", field="extra")
    _check_structured(value, "extra")
    for key, item in value.items():
        field = FRONT_MATTER_FIELDS.get(key)
        if field is None:
            continue
        try:
            clean_front_matter_value(field, item)
        except InvalidInput:
            continue  # a value the field cannot hold stays verbatim in extra
        raise InvalidInput(f"extra: {key!r} has a field of its own; set {field} instead.", field="extra")
    return value


def card_fields_clean(fields: dict, *, kind: str) -> dict:
    """Every card field, validated and normalised; fields not given are empty (a full replacement).

    Raises InvalidInput naming the field for an unknown field, a wrong type, an oversized text or list,
    NUL characters, a section key the kind does not have, or headings that would move text between
    the body and the sections in a README round trip.
    """
    if not isinstance(fields, dict):
        raise InvalidInput("The card must be an object.")
    unknown = sorted(str(key)[:40] for key in fields if key not in CARD_FIELDS)
    if unknown:
        raise InvalidInput(
            f"Unknown card field {', '.join(map(repr, unknown[:5]))}; a card has: {', '.join(CARD_FIELDS)}.",
            field=unknown[0],
        )
    cleaned = empty_card_fields()
    cleaned["sections"] = _clean_sections(fields.get("sections"), kind)
    cleaned["body"] = _clean_body(fields.get("body"), kind)
    for field in (*TEXT_FIELDS, *NAME_LIST_FIELDS):
        cleaned[field] = clean_front_matter_value(field, fields.get(field))
    cleaned["model_index"] = clean_model_index(fields.get("model_index"))
    cleaned["extra"] = _clean_extra(fields.get("extra"))
    return cleaned
