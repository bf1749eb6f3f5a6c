"""Home, catalogue search (with facets, sorting, pagination, suggestions) — the portal's only call of `asset_search`."""

import math

from django.http import QueryDict
from django.shortcuts import render

from marketplace.pages.responses import is_htmx, portal_view
from registry.assets.models import AssetKind
from registry.assets.overview import asset_kind_counts, assets_most_used, assets_recently_updated
from registry.endpoints.selectors import endpoint_list
from registry.governance.selectors import review_queue
from registry.kernel.errors import InvalidInput
from registry.search.page import SearchPage
from registry.search.query import MAX_PAGE_OFFSET
from registry.search.selectors import asset_search
from registry.search.vocabulary import (
    DEFAULT_ORDERING,
    FACETS,
    FILTERS_BY_NAME,
    ORDERING,
    ORDERINGS_BY_NAME,
    PORTAL_SORTS,
    RELEVANCE,
    WORDS,
)

PAGE_SIZE = 20
SUGGESTIONS = 6
# The facet menus, coarse choices first (a facet added to the vocabulary must be placed here, or this fails).
FACET_MENUS = tuple(sorted(FACETS, key=("kind", "status", "task", "license", "tag", "team").index))
# Facets whose values have labels of their own.
LABELS = {name: dict(f.choices.choices) for name in FACET_MENUS if (f := FILTERS_BY_NAME[name]).choices}
MULTI_VALUED = {name for name in FACET_MENUS if FILTERS_BY_NAME[name].many}
# With words, the best match first; without, what changed last (as the API's own defaults).
SORT_WITH_WORDS, SORT_WITHOUT = ORDERINGS_BY_NAME[RELEVANCE].sort, ORDERINGS_BY_NAME[DEFAULT_ORDERING].sort


class ResultsPage:
    """What the catalogue templates read of one SearchPage: its assets, the total, and where the pages go.
    Numbered pages go as deep as the selector allows them (MAX_PAGE_OFFSET); past that, `next` follows the
    selector's keyset cursor, whose cost does not grow with depth."""

    def __init__(self, result: SearchPage | None, params: QueryDict):
        self.object_list = result.assets if result else []
        self.count = result.count if result else 0
        self.number = result.page if result else 1
        reachable = min(self.count, MAX_PAGE_OFFSET + PAGE_SIZE)
        self.num_pages = max(1, math.ceil(reachable / PAGE_SIZE))
        self.prev_url = self.next_url = None
        if result is None:
            return
        if self.number is not None:
            if self.number > 1:
                self.prev_url = _link(params, page=str(self.number - 1))
            if self.number < self.num_pages:
                self.next_url = _link(params, page=str(self.number + 1))
            elif result.next_cursor:
                self.next_url = _link(params, cursor=result.next_cursor)
        else:
            if result.previous_cursor:
                self.prev_url = _link(params, cursor=result.previous_cursor)
            if result.next_cursor:
                self.next_url = _link(params, cursor=result.next_cursor)


def _search(user, params: QueryDict, page_size: int = PAGE_SIZE) -> tuple[SearchPage, str]:
    """The one place the portal calls the catalogue search selector (the API's code path and permission checks).

    Returns (the page, the sort key). The selector validates every parameter (InvalidInput on a bad one) and
    marks the matched words in names and summaries (`asset.highlight`, HTML the selector escaped)."""
    sort = params.get("sort") or (SORT_WITH_WORDS if params.get(WORDS) else SORT_WITHOUT)
    if sort not in PORTAL_SORTS:
        raise InvalidInput(f"sort: one of {', '.join(PORTAL_SORTS)}.", field="sort")
    selector_params = params.copy()
    selector_params.pop("sort", None)
    selector_params[ORDERING] = PORTAL_SORTS[sort].name
    selector_params["page_size"] = str(page_size)
    if "cursor" not in selector_params and "page" not in selector_params:
        selector_params["page"] = "1"
    result = asset_search(user=user, params=selector_params)
    for asset in result.assets:
        asset.highlight = result.highlights.get(asset.pk)
    return result, sort


def _first_page(params: QueryDict) -> QueryDict:
    """A mutable copy of the query without its place in the results: a changed search starts at its top."""
    query = params.copy()
    query.pop("page", None)
    query.pop("cursor", None)
    return query


def _link(params: QueryDict, **changes) -> str:
    query = _first_page(params)
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return "?" + query.urlencode() if query else "?"


def _facet_groups(params: QueryDict, facets: dict) -> list[dict]:
    groups = []
    for name in FACET_MENUS:
        title = FILTERS_BY_NAME[name].label
        chosen = params.getlist(name)
        options = []
        for row in facets.get(name, []):
            value = str(row["value"])
            selected = value in chosen
            query = _first_page(params)
            if name in MULTI_VALUED:
                values = [v for v in chosen if v != value] if selected else chosen + [value]
                query.setlist(name, values)
            elif selected:
                query.pop(name, None)
            else:
                query[name] = value
            label = LABELS.get(name, {}).get(value, value)
            options.append(
                {
                    "value": value,
                    "label": label,
                    "count": row["count"],
                    "selected": selected,
                    "url": "?" + query.urlencode(),
                }
            )
        if options:
            groups.append({"name": name, "title": title, "options": options})
    return groups


@portal_view
def catalogue(request):
    params = request.GET
    error = None
    try:
        result, sort = _search(request.user, params)
    except InvalidInput as exc:
        result, sort, error = None, SORT_WITH_WORDS, exc.message
    page = ResultsPage(result, params)
    words = params.get("q", "")
    # The selector widens a word that matches too little to the catalogue's words most like it (typos):
    # say so, as a search engine says "showing results for".
    # Words the typed one is a prefix of are what a prefix search matches anyway: not worth a note.
    widened = [
        {"word": word, "also": ", ".join(also)}
        for word, alternatives in (result.widened.items() if result else [])
        if (also := [a for a in alternatives if not a.startswith(word)])
    ]
    chosen = [
        {"name": name, "value": LABELS.get(name, {}).get(value, value), "url": _remove(params, name, value)}
        for name in FACET_MENUS
        for value in params.getlist(name)
    ]
    context = {
        "page": page,
        "q": words,
        "facet_groups": _facet_groups(params, result.facets if result else {}),
        "error": error,
        "sorts": [{"key": key, "label": o.label, "selected": key == sort} for key, o in PORTAL_SORTS.items()],
        "sort": sort,
        "chosen": chosen,
        # The filters in force, carried by the search form so a new query keeps them.
        "hidden": [
            (name, value)
            for name, values in params.lists()
            if name not in ("q", "sort", "page", "cursor")
            for value in values
        ],
        "widened": widened,
        "prev_url": page.prev_url,
        "next_url": page.next_url,
    }
    template = "pages/partials/catalogue_results.html" if is_htmx(request) else "pages/catalogue.html"
    return render(request, template, context, status=400 if error else 200)


def _remove(params: QueryDict, name: str, value: str) -> str:
    query = _first_page(params)
    query.setlist(name, [v for v in params.getlist(name) if v != value])
    return "?" + query.urlencode()


@portal_view
def suggest(request):
    """Suggestions while typing in a search box (htmx): the first matches by relevance."""
    words = request.GET.get("q", "").strip()
    assets = []
    if words:
        try:
            result, _sort = _search(request.user, QueryDict.fromkeys(["q"], value=words[:200]), page_size=SUGGESTIONS)
            assets = result.assets
        except InvalidInput:
            assets = []
    return render(request, "pages/partials/suggestions.html", {"assets": assets, "q": words})


def home(request):
    if not request.user.is_authenticated:
        return render(request, "pages/welcome.html")
    user = request.user
    counts = asset_kind_counts(user=user)
    context = {
        "q": "",
        "counts": [{"kind": k, "label": AssetKind(k).label, "n": n} for k, n in counts.items()],
        "total": sum(counts.values()),
        "recent": assets_recently_updated(user=user),
        "most_used": assets_most_used(user=user),
        "reviews": review_queue(user=user)[:5],
        "endpoints": endpoint_list(user=user)[:5],
    }
    return render(request, "pages/home.html", context)
