from django.db.models import Count, QuerySet
from django.http import QueryDict

from marketplace.access import restrict_assets
from marketplace.assets.filters import ORDERINGS, AssetFilter, too_many_values
from marketplace.assets.models import Asset
from marketplace.assets.search import apply_search
from marketplace.errors import InvalidInput, NotFound

FACET_FIELDS = {"kind": "kind", "tag": "tags__name", "task": "task", "license": "license", "team": "team__slug"}
FACET_LIMIT = 50


def asset_list(*, user) -> QuerySet[Asset]:
    """The assets `user` may see, with what a listing shows loaded in a fixed number of queries."""
    return restrict_assets(Asset.objects.all(), user).select_related("team", "created_by").prefetch_related("tags")


def asset_get(*, user, team: str, slug: str) -> Asset:
    """The asset `team/slug` if the caller may see it; otherwise NotFound, never a hint it exists."""
    asset = asset_list(user=user).filter(team__slug=team, slug=slug).first()
    if asset is None:
        raise NotFound(f"No asset named '{team}/{slug}'.")
    return asset


def _facet_counts(qs: QuerySet[Asset]) -> dict[str, list[dict]]:
    base = Asset.objects.filter(pk__in=qs.order_by().values("pk"))
    facets = {}
    for facet, field in FACET_FIELDS.items():
        rows = (base.exclude(**{f"{field}__isnull": True}).exclude(**{field: ""})
                .values(field).annotate(count=Count("pk", distinct=True)).order_by("-count", field)[:FACET_LIMIT])
        facets[facet] = [{"value": row[field], "count": row["count"]} for row in rows]
    return facets


def asset_search(*, user, params: QueryDict) -> tuple[QuerySet[Asset], dict[str, list[dict]]]:
    """Visible assets matching the query and filters, ordered, with facet counts over the matches."""
    problem = too_many_values(params)
    if problem:
        raise InvalidInput(problem)
    filterset = AssetFilter(params, queryset=asset_list(user=user))
    if not filterset.is_valid():
        field, errors = next(iter(filterset.errors.items()))
        raise InvalidInput(f"{field}: {' '.join(errors)}", field=field)
    q = filterset.form.cleaned_data.get("q") or ""
    qs = apply_search(filterset.qs, q)
    facets = _facet_counts(qs)
    ordering = filterset.form.cleaned_data.get("ordering") or "relevance"
    if ordering == "relevance":
        order = ("-rank", "name", "pk") if "rank" in qs.query.annotations else ("-updated_at", "-pk")
    else:
        order = ORDERINGS[ordering]
    return qs.order_by(*order), facets
