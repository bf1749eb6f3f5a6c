"""Hugging Face README.md cards: YAML front matter between `---` lines, then Markdown.

Import maps the front-matter keys that have a card field (`license`, `tags`, `datasets`, `metrics`,
`base_model`, `library_name`, `pipeline_tag`, `model-index`) to those fields and keeps every other
key, and any known key whose value has another shape, verbatim in `extra`. The Markdown is split at
its level-1 and level-2 headings: a level-2 heading that names a section of the asset kind (matched
case-insensitively, with common variants such as "Intended uses & limitations") becomes that section;
everything else, the text before the first heading included, stays in `body` in its order.

Export writes the front matter (`extra` plus the set fields), the body, then each section as
`## <Title>`. Importing an export gives back the same fields (the round trip is lossless); the
normalisation that makes this hold is in `registry.cards.fields`.

The front matter is untrusted YAML: it is read with `yaml.safe_load` only (no Python objects), is at
most FRONT_MATTER_MAX_BYTES, may not use aliases (an alias "billion laughs" bomb is a few hundred
bytes that expands to gigabytes of shared references), and may have at most FRONT_MATTER_MAX_NODES
nodes nested at most FRONT_MATTER_MAX_DEPTH deep; the parser's event stream is checked before
anything is built.
"""

import datetime

import yaml

from registry.assets.models import AssetKind
from registry.cards.fields import (
    FRONT_MATTER_FIELDS,
    WrongShape,
    card_fields_clean,
    clean_front_matter_value,
    trim_block,
)
from registry.cards.markdown import top_headings
from registry.cards.sections import section_for_heading, sections_for
from registry.kernel.errors import InvalidInput, PayloadTooLarge

README_MAX_BYTES = 1024 * 1024
FRONT_MATTER_MAX_BYTES = 256 * 1024
FRONT_MATTER_MAX_NODES = 20_000
FRONT_MATTER_MAX_DEPTH = 32

_FRONT_MATTER_ORDER = (
    "license",
    "base_model",
    "library_name",
    "pipeline_tag",
    "datasets",
    "metrics",
    "tags",
    "model-index",
)


def _split_front_matter(text: str) -> tuple[str | None, str]:
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return None, text
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :])
    raise InvalidInput("The README starts a YAML front matter with '---' but has no closing '---' line.")


def _check_events(text: str) -> None:
    """Refuse aliases, too many nodes and deep nesting from the event stream, before composing."""
    nodes = depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise InvalidInput("The README's front matter uses a YAML alias (*name); write the value out instead.")
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            nodes += 1
            if nodes > FRONT_MATTER_MAX_NODES:
                raise InvalidInput(f"The README's front matter has more than {FRONT_MATTER_MAX_NODES} values.")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > FRONT_MATTER_MAX_DEPTH:
                raise InvalidInput(f"The README's front matter is nested more than {FRONT_MATTER_MAX_DEPTH} levels.")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _key(key) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return {None: "null", True: "true", False: "false"}[key]
    if isinstance(key, int | float | datetime.date):
        return key.isoformat() if isinstance(key, datetime.date) else str(key)
    raise InvalidInput("The README's front matter has a mapping key that is not a plain value.")


def _as_json(value):
    """YAML values as JSON values: dates become ISO strings; binary, sets and other tags are refused.
    The depth is already bounded by `_check_events`."""
    if isinstance(value, dict):
        return {_key(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, datetime.date):  # datetime is a date too
        return value.isoformat()
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise InvalidInput(
        f"The README's front matter holds a {type(value).__name__} value; only strings, numbers, "
        "booleans, dates, lists and mappings are accepted."
    )


def _load_front_matter(text: str) -> dict:
    size = len(text.encode())
    if size > FRONT_MATTER_MAX_BYTES:
        raise InvalidInput(f"The README's front matter is {size} bytes, over the limit of {FRONT_MATTER_MAX_BYTES}.")
    try:
        _check_events(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "syntax error"
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InvalidInput(f"The README's front matter is not valid YAML: {problem}{where}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("The README's front matter must be a YAML mapping (key: value lines).")
    return _as_json(data)


def _split_body(markdown: str, kind: str) -> tuple[dict[str, str], str]:
    lines = markdown.split("\n")
    headings = top_headings(markdown)
    sections: dict[str, list[str]] = {}
    # Runs of lines that stay in the body; a section taken out between two runs ends a run. Within a
    # run the text stays as written (a setext heading needs the line right before it, for one).
    runs: list[list[str]] = [lines[: headings[0][1] if headings else len(lines)]]
    taken_out = False
    for index, (level, start, end, text) in enumerate(headings):
        stop = headings[index + 1][1] if index + 1 < len(headings) else len(lines)
        key = section_for_heading(kind, text) if level == 2 else None
        if key is None:
            if taken_out:
                runs.append([])
                taken_out = False
            runs[-1].extend(lines[start:stop])
        else:
            # A repeated heading adds to its section, so the body never names a section.
            sections.setdefault(key, []).append(trim_block("\n".join(lines[end:stop])))
            taken_out = True
    body = (trim_block("\n".join(run)) for run in runs)
    return (
        {key: "\n\n".join(part for part in parts if part) for key, parts in sections.items()},
        "\n\n".join(part for part in body if part),
    )


def card_from_huggingface_readme(text: str, *, kind: str = AssetKind.MODEL) -> dict:
    """The card fields of a Hugging Face README (see the module docstring), validated by
    `card_fields_clean`. Raises InvalidInput for malformed or hostile front matter, PayloadTooLarge
    above README_MAX_BYTES."""
    if not isinstance(text, str):
        raise InvalidInput("The README must be text.")
    size = len(text.encode(errors="surrogatepass"))
    if size > README_MAX_BYTES:
        raise PayloadTooLarge(f"The README is {size} bytes, over the limit of {README_MAX_BYTES} bytes.")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    front_text, markdown = _split_front_matter(text)
    front = _load_front_matter(front_text) if front_text is not None else {}
    fields: dict = {"extra": {}}
    for key, value in front.items():
        field = FRONT_MATTER_FIELDS.get(key)
        if field is not None:
            try:
                fields[field] = clean_front_matter_value(field, value)
                continue
            except WrongShape:
                pass  # kept verbatim below
        fields["extra"][key] = value
    fields["sections"], fields["body"] = _split_body(markdown, kind)
    return card_fields_clean(fields, kind=kind)


def huggingface_readme_from_fields(fields: dict, *, kind: str) -> str:
    """A README.md for card fields (as `card_fields_clean` returns them)."""
    front = {}
    for key in _FRONT_MATTER_ORDER:
        value = fields[FRONT_MATTER_FIELDS[key]]
        if key == "base_model" and len(value) == 1:
            value = value[0]  # as the Hub writes it
        if value:
            front[key] = value
    front.update((key, value) for key, value in fields["extra"].items() if key not in front)
    parts = []
    if front or fields["body"].startswith("---"):
        dumped = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=False) if front else ""
        parts.append(f"---\n{dumped}---")
    if fields["body"]:
        parts.append(fields["body"])
    titles = sections_for(kind)
    parts.extend(f"## {titles[key]}\n\n{text}" for key, text in fields["sections"].items() if key in titles)
    return "\n\n".join(parts) + "\n"


def card_to_huggingface_readme(card) -> str:
    """The README.md of a stored card (a ModelCard with its version and asset)."""
    return huggingface_readme_from_fields(card.as_fields(), kind=card.version.asset.kind)
