"""What a catalogue search asks for, parsed and bounded once for every backend."""

import functools
import re
from dataclasses import dataclass

from registry.kernel.errors import InvalidInput
from registry.search.cursor import Cursor, cursor_decode
from registry.search.filters import AssetFilter, too_many_values
from registry.search.vocabulary import DEFAULT_ORDERING, FILTERS, ORDER_KEYS, RELEVANCE, TAG

MAX_TERMS = 16
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# `page=` is for the first pages a person clicks through; deeper pages follow `next` (a keyset cursor),
# whose cost does not grow with depth. An offset makes the database read and drop every row before it.
MAX_PAGE_OFFSET = 10_000


def search_terms(q: str) -> tuple[str, ...]:
    """The words of `q`, lowercased: letters and digits only, so user input never becomes query syntax."""
    return tuple(dict.fromkeys(re.findall(r"[^\W_]+", (q or "").lower())))[:MAX_TERMS]


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[str, ...] = ()
    kind: str = ""
    tags: tuple[str, ...] = ()
    task: str = ""
    license: str = ""
    framework: str = ""
    status: str = ""
    team: str = ""
    visibility: str = ""
    ordering: str = DEFAULT_ORDERING
    page_size: int = DEFAULT_PAGE_SIZE
    page: int | None = None
    cursor: Cursor | None = None

    def facet_filters(self) -> dict[str, object]:
        """The active filters that are also facets."""
        values = {f.name: getattr(self, f.field) for f in FILTERS if f.facet}
        return {name: value for name, value in values.items() if value}

    @property
    def order_keys(self) -> tuple[tuple[str, bool], ...]:
        return ORDER_KEYS[self.ordering]

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size if self.page else 0


def _whole_number(params, name: str, low: int, high: int | None) -> int | None:
    values = params.getlist(name) if hasattr(params, "getlist") else ([params[name]] if name in params else [])
    if not values:
        return None
    value = values[0]
    if (
        len(values) > 1
        or not value.isascii()
        or not value.isdigit()
        or len(value) > 9
        or int(value) < low
        or (high is not None and int(value) > high)
    ):
        bound = f"from {low} to {high}" if high is not None else f"from {low}"
        raise InvalidInput(f"{name}: a whole number {bound}, given once.", field=name)
    return int(value)


@functools.cache
def _filter_form():
    """AssetFilter's form class, built once: a FilterSet deep-copies all its filters whenever it is made, and
    validating a query string needs only the form (`FilterSet.is_valid` is `form.is_valid`)."""
    return AssetFilter().get_form_class()


def parse_search(params) -> SearchQuery:
    """Validate a query string (a QueryDict or a plain dict) into a SearchQuery; InvalidInput if it is not one."""
    problem = too_many_values(params)
    if problem:
        raise InvalidInput(problem)
    form = _filter_form()(params)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise InvalidInput(f"{field}: {' '.join(errors)}", field=field)
    data = form.cleaned_data
    raw_tags = params.getlist(TAG) if hasattr(params, "getlist") else ([params[TAG]] if TAG in params else [])
    tags = tuple(sorted({tag.strip().lower() for tag in raw_tags if tag.strip()}))
    terms = search_terms(data.get("q") or "")
    ordering = data.get("ordering") or ""
    if not ordering or (ordering == RELEVANCE and not terms):
        ordering = RELEVANCE if terms else DEFAULT_ORDERING
    page_size = _whole_number(params, "page_size", 1, MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
    page = _whole_number(params, "page", 1, None)
    cursor_values = (
        params.getlist("cursor") if hasattr(params, "getlist") else ([params["cursor"]] if "cursor" in params else [])
    )
    if len(cursor_values) > 1:
        raise InvalidInput("cursor: give it once.", field="cursor")
    cursor = cursor_decode(cursor_values[0], ORDER_KEYS[ordering]) if cursor_values else None
    if cursor is not None and page is not None:
        raise InvalidInput(
            "page and cursor: give one of them; follow the `next` link for the next page.", field="cursor"
        )
    if page is not None and (page - 1) * page_size > MAX_PAGE_OFFSET:
        raise InvalidInput(
            f"page: pages start at most {MAX_PAGE_OFFSET} results deep; follow the `next` link "
            "(a cursor) to go deeper.",
            field="page",
        )
    return SearchQuery(
        terms=terms,
        kind=data.get("kind") or "",
        tags=tags,
        task=(data.get("task") or "").strip().lower(),
        license=(data.get("license") or "").strip(),
        framework=(data.get("framework") or "").strip(),
        status=data.get("status") or "",
        team=(data.get("team") or "").strip(),
        visibility=data.get("visibility") or "",
        ordering=ordering,
        page_size=page_size,
        page=page,
        cursor=cursor,
    )
