"""Card Markdown: rendering to sanitised HTML, and the block structure the README import needs.

Rendering is two steps. markdown-it-py (CommonMark plus tables) turns Markdown into HTML, raw HTML
included, because real Hugging Face cards carry some (`<details>`, `<img width=...>`). Then nh3
(Python bindings of the Rust crate ammonia, an HTML5 parser-based sanitiser) keeps only the
allow-list below: no script, style, iframe, object, svg or math, no event-handler or style
attributes (except `text-align` on table cells), only http, https and mailto URLs (entity-encoded or
mixed-case `javascript:` included, since ammonia decodes before it checks), and every link gets
rel="nofollow noopener". The sanitiser runs last, so whatever markdown-it lets through, only the
allow-list reaches a browser.
"""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"style", "align"},
    "td": {"style", "align"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Removed with everything inside them (the other disallowed tags are dropped, their text kept).
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "template",
        "noscript",
        "textarea",
        "select",
        "frame",
        "frameset",
        "noembed",
        "xmp",
    }
)
LINK_REL = "nofollow noopener"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def render_markdown(text: str) -> str:
    """Sanitised HTML for card Markdown (see the module docstring for what survives)."""
    if not text:
        return ""
    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        link_rel=LINK_REL,
        strip_comments=True,
        filter_style_properties={"text-align"},
    )


def top_headings(text: str) -> list[tuple[int, int, int, str]]:
    """Level-1 and level-2 headings of `text` as (level, first line, end line, heading text).

    Lines are 0-based and `end` is exclusive; ATX (`## x`) and setext (`x` over `---`) headings
    count, while `## x` inside a code block or an HTML block does not (the parser decides).
    """
    tokens = _parser().parse(text)
    found = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h1", "h2") and token.level == 0 and token.map:
            inline = tokens[index + 1]
            found.append((int(token.tag[1]), token.map[0], token.map[1], inline.content.strip()))
    return found


_PROBE = "Modelhub-section-probe"
# How to end a CommonMark HTML block of types 1-5, which run until their end condition.
_HTML_BLOCK_ENDS = (("<!--", "-->"), ("<?", "?>"), ("<![CDATA[", "]]>"), ("<!", ">"))


def _ends_open(text: str) -> bool:
    """True if a heading written after `text` would not be a heading (an unclosed fence or HTML block)."""
    return not any(h[3] == _PROBE for h in top_headings(text + f"\n\n## {_PROBE}\n"))


def close_open_blocks(text: str) -> str | None:
    """`text` with an unclosed code fence or HTML block at its end closed, so that Markdown
    written after it starts fresh; None if it cannot be closed. Rendering is unchanged: an
    unclosed block runs to the end of the document anyway."""
    for _ in range(4):
        if not _ends_open(text):
            return text
        last = next(
            (t for t in reversed(_parser().parse(text)) if t.level == 0 and t.type in ("fence", "html_block")), None
        )
        if last is None:
            return None
        if last.type == "fence":
            closer = last.markup
        else:
            start = last.content.lstrip().lower()
            closer = next((end for opener, end in _HTML_BLOCK_ENDS if start.startswith(opener.lower())), None)
            if closer is None:
                tag = next((t for t in ("script", "pre", "style", "textarea") if start.startswith("<" + t)), None)
                closer = f"</{tag}>" if tag else None
            if closer is None:
                return None
        text = text.rstrip("\n") + "\n" + closer
    return text if not _ends_open(text) else None
