from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import QueryDict

from marketplace.assets.filters import ORDERINGS, AssetFilter
from marketplace.assets.models import Asset, Visibility
from marketplace.assets.search import apply_search
from marketplace.errors import InvalidInput, NotFound
from marketplace.teams.models import Membership
from registry.versions.models import AssetVersion

FACET_FIELDS = {"kind": "kind", "tag": "tags__name", "task": "task", "license": "license", "team": "team__slug"}
FACET_LIMIT = 50


def asset_visible_q(user) -> Q:
    """Internal assets are visible to every signed-in user; private ones to their team only."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    return Q(visibility=Visibility.INTERNAL) | Q(team_id__in=Membership.objects.filter(user=user).values("team_id"))


def asset_list(*, user) -> QuerySet[Asset]:
    latest = AssetVersion.objects.filter(asset=OuterRef("pk")).order_by(*AssetVersion._meta.ordering[1:])
    return (Asset.objects.filter(asset_visible_q(user))
            .select_related("team", "created_by")
            .prefetch_related("tags")
            .annotate(latest_version=Subquery(latest.values("version")[:1]),
                      version_count=Coalesce(Subquery(AssetVersion.objects.filter(asset=OuterRef("pk")).order_by()
                                                      .values("asset").annotate(n=Count("pk")).values("n")), 0)))


def asset_get(*, user, slug: str) -> Asset:
    """The asset with `slug` if the caller may see it; otherwise NotFound, never a hint it exists."""
    asset = asset_list(user=user).filter(slug=slug).first()
    if asset is None:
        raise NotFound(f"No asset with the slug '{slug}'.")
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
