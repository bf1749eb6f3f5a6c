"""Home, catalogue search (with facets, sorting, pagination, suggestions) — the portal's only call of `asset_search`."""

import difflib
import re

from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import render

from marketplace.assets.models import AssetKind
from marketplace.assets.overview import asset_kind_counts, assets_recently_updated
from marketplace.assets.selectors import asset_list, asset_search
from marketplace.errors import InvalidInput
from marketplace.pages.responses import is_htmx, portal_view
from registry.endpoints.selectors import asset_usage_annotate, assets_most_used, endpoint_list
from registry.governance.selectors import review_queue

PAGE_SIZE = 20
SUGGESTIONS = 6
# The sort choices people see; each maps to the selector's `ordering` (None: ordered here, by usage).
SORTS = {"relevance": ("Best match", "relevance"), "updated": ("Recently updated", "-updated"),
         "name": ("Name", "name"), "used": ("Most used", None)}
FACETS = (("kind", "Kind"), ("task", "Task"), ("license", "Licence"), ("tag", "Tag"), ("team", "Team"))
MULTI_VALUED = {"tag"}
_WORD = re.compile(r"[a-z0-9]+")


def _search(user, params: QueryDict):
    """The one place the portal calls the catalogue search selector (the API's code path and permission checks).

    Returns (ordered queryset, facets). The selector validates every parameter (InvalidInput on a bad one).
    """
    sort = params.get("sort") or ("relevance" if params.get("q") else "updated")
    if sort not in SORTS:
        raise InvalidInput(f"sort: one of {', '.join(SORTS)}.", field="sort")
    selector_params = params.copy()
    for name in ("sort", "page"):
        selector_params.pop(name, None)
    ordering = SORTS[sort][1]
    if ordering:
        selector_params["ordering"] = ordering
    queryset, facets = asset_search(user=user, params=selector_params)
    if ordering is None:
        queryset = asset_usage_annotate(queryset).order_by("-usage", "-updated_at", "-pk")
    return queryset, facets, sort


def _did_you_mean(user, query: str) -> str | None:
    """A query with each unknown word replaced by the closest word of the visible catalogue (names and tags)."""
    words = _WORD.findall(query.lower())
    if not words:
        return None
    vocabulary = set()
    for name, tags in asset_list(user=user).order_by().values_list("name", "tags_text")[:5000]:
        vocabulary.update(_WORD.findall(f"{name} {tags}".lower()))
    fixed, changed = [], False
    for word in words:
        if any(v.startswith(word) for v in vocabulary):
            fixed.append(word)
            continue
        close = difflib.get_close_matches(word, vocabulary, n=1, cutoff=0.6)
        fixed.append(close[0] if close else word)
        changed = changed or bool(close)
    return " ".join(fixed) if changed else None


def _link(params: QueryDict, **changes) -> str:
    query = params.copy()
    query.pop("page", None)
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return "?" + query.urlencode() if query else "?"


def _facet_groups(params: QueryDict, facets: dict) -> list[dict]:
    groups = []
    for name, title in FACETS:
        chosen = params.getlist(name)
        options = []
        for row in facets.get(name, []):
            value = str(row["value"])
            selected = value in chosen
            query = params.copy()
            query.pop("page", None)
            if name in MULTI_VALUED:
                values = [v for v in chosen if v != value] if selected else chosen + [value]
                query.setlist(name, values)
            elif selected:
                query.pop(name, None)
            else:
                query[name] = value
            label = AssetKind(value).label if name == "kind" and value in AssetKind.values else value
            options.append({"value": value, "label": label, "count": row["count"], "selected": selected,
                            "url": "?" + query.urlencode()})
        if options:
            groups.append({"name": name, "title": title, "options": options})
    return groups


@portal_view
def catalogue(request):
    params = request.GET
    error = None
    try:
        queryset, facets, sort = _search(request.user, params)
    except InvalidInput as exc:
        queryset, facets, sort, error = asset_list(user=request.user).none(), {}, "relevance", exc.message
    page = Paginator(queryset, PAGE_SIZE).get_page(params.get("page"))
    q = params.get("q", "")
    suggestion = _did_you_mean(request.user, q) if q and not page.object_list and not error else None
    chosen = [{"name": name, "value": value, "url": _remove(params, name, value)}
              for name, _ in FACETS for value in params.getlist(name)]
    context = {"page": page, "q": q, "facet_groups": _facet_groups(params, facets), "error": error,
               "sorts": [{"key": key, "label": label, "selected": key == sort} for key, (label, _) in SORTS.items()],
               "sort": sort, "chosen": chosen,
               # The filters in force, carried by the search form so a new query keeps them.
               "hidden": [(name, value) for name, values in params.lists() if name not in ("q", "sort", "page")
                          for value in values],
               "suggestion": suggestion, "suggestion_url": _link(params, q=suggestion) if suggestion else None,
               "prev_url": _link(params, page=str(page.previous_page_number())) if page.has_previous() else None,
               "next_url": _link(params, page=str(page.next_page_number())) if page.has_next() else None}
    template = "pages/partials/catalogue_results.html" if is_htmx(request) else "pages/catalogue.html"
    return render(request, template, context, status=400 if error else 200)


def _remove(params: QueryDict, name: str, value: str) -> str:
    query = params.copy()
    query.pop("page", None)
    query.setlist(name, [v for v in params.getlist(name) if v != value])
    return "?" + query.urlencode()


@portal_view
def suggest(request):
    """Suggestions while typing in a search box (htmx): the first matches by relevance."""
    q = request.GET.get("q", "").strip()
    assets = []
    if q:
        try:
            queryset, _facets, _sort = _search(request.user, QueryDict.fromkeys(["q"], value=q[:200]))
            assets = list(queryset[:SUGGESTIONS])
        except InvalidInput:
            assets = []
    return render(request, "pages/partials/suggestions.html", {"assets": assets, "q": q})


def home(request):
    if not request.user.is_authenticated:
        return render(request, "pages/welcome.html")
    user = request.user
    counts = asset_kind_counts(user=user)
    context = {"q": "", "counts": [{"kind": k, "label": AssetKind(k).label, "n": n} for k, n in counts.items()],
               "total": sum(counts.values()),
               "recent": assets_recently_updated(user=user), "most_used": assets_most_used(user=user),
               "reviews": review_queue(user=user)[:5], "endpoints": endpoint_list(user=user)[:5]}
    return render(request, "pages/home.html", context)
