"""Template filters of the portal (registered as the `portal` library in settings.TEMPLATES)."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from registry.artifacts.uploads import human_size

register = template.Library()

_WORD = re.compile(r"\w+", re.UNICODE)


@register.filter
def highlight(text, query):
    """`text` escaped, with each word that starts with a query term wrapped in <mark> (the search is a prefix match)."""
    text = "" if text is None else str(text)
    terms = sorted({t.lower() for t in _WORD.findall(str(query or "")) if t}, key=len, reverse=True)[:10]
    if not terms:
        return escape(text)
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")", re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))


_HEADING = re.compile(r"<(/?)h([1-6])(?=[\s>])")


@register.filter
def demote_headings(html, levels=2):
    """Sanitised Markdown HTML with every heading `levels` lower (h1 -> h3, capped at h6), so a card's or
    description's own headings sit under the page's section headings."""
    shifted = _HEADING.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + int(levels))}", str(html or ""))
    return mark_safe(shifted)


@register.filter
def filesize(size):
    try:
        return human_size(int(size))
    except (TypeError, ValueError):
        return ""


@register.filter
def shape(dims):
    """[\"batch\", 4] -> "batch × 4"; a scalar -> "scalar"."""
    if dims is None:
        return "unknown"
    if not dims:
        return "scalar"
    return " × ".join("?" if d in (None, -1, "") else str(d) for d in dims)


@register.filter
def status_tone(status):
    """The colour family of a status badge (CSS class suffix)."""
    return {
        "approved": "good",
        "ready": "good",
        "validated": "info",
        "passed": "good",
        "in_review": "warn",
        "validating": "busy",
        "pending": "busy",
        "provisioning": "busy",
        "updating": "busy",
        "deleting": "busy",
        "invalid": "bad",
        "rejected": "bad",
        "failed": "bad",
        "deprecated": "muted",
        "draft": "muted",
        "open": "warn",
        "changes_requested": "warn",
        "approve": "good",
        "reject": "bad",
        "request_changes": "warn",
        "loading": "busy",
        "stopping": "busy",
        "stopped": "muted",
    }.get(str(status), "muted")


@register.filter
def percent(value, digits=1):
    """0.0312 -> "3.1%"; "" for what is not a number."""
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def get(mapping, key):
    """mapping[key], or None (a template cannot index a dict by a variable)."""
    return mapping.get(key) if isinstance(mapping, dict) else None
