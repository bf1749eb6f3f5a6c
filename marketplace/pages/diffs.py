"""Readable line diffs for the review page: a version's card, metadata and signature beside the last approved one's."""

import difflib
import json


def _lines(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        value = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return value.splitlines()


def line_diff(old, new) -> dict:
    """{"changed": bool, "lines": [{"op": "add" | "del" | "same" | "gap", "text": str}]} with 2 lines of context."""
    before, after = _lines(old), _lines(new)
    if before == after:
        return {"changed": False, "lines": []}
    lines = []
    for group in difflib.SequenceMatcher(None, before, after).get_grouped_opcodes(2):
        if lines:
            lines.append({"op": "gap", "text": "…"})
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [{"op": "same", "text": t} for t in before[i1:i2]]
                continue
            lines += [{"op": "del", "text": t} for t in before[i1:i2]]
            lines += [{"op": "add", "text": t} for t in after[j1:j2]]
    return {"changed": True, "lines": lines}


def card_diff(old_card, new_card, sections: dict[str, str]) -> list[dict]:
    """Per card part (each section, the body, the licence): its title and the diff, changed parts only."""
    parts = list(sections.items())
    result = []
    for key, title in parts:
        old = (old_card.sections.get(key) or "") if old_card else ""
        new = (new_card.sections.get(key) or "") if new_card else ""
        diff = line_diff(old, new)
        if diff["changed"]:
            result.append({"title": title, **diff})
    for attr, title in (("body", "Free text"), ("license", "Licence")):
        diff = line_diff(
            getattr(old_card, attr, "") if old_card else "", getattr(new_card, attr, "") if new_card else ""
        )
        if diff["changed"]:
            result.append({"title": title, **diff})
    return result
