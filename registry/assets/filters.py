import django_filters
from django.db.models import Count

from registry.assets.models import Asset, AssetKind, ReleaseStatus
from registry.kernel.access import Visibility

# Bounds on a search request, so no query string can make the database work without limit.
MAX_TAG_FILTERS = 10
MAX_QUERY_PARAMETERS = 30
MAX_PARAMETER_CHARS = 500

ORDERINGS = {
    "relevance": None,  # by search rank when there is a query, else like -updated
    "name": ("name", "slug"),
    "-name": ("-name", "slug"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "updated": ("updated_at", "pk"),
    "-updated": ("-updated_at", "-pk"),
    "-used": ("-usage_count", "-updated_at", "-pk"),
}


class AssetFilter(django_filters.FilterSet):
    """Catalogue filters shared by the API list and the portal's list page."""

    q = django_filters.CharFilter(
        method="filter_noop",
        help_text=(
            "Words over name, tags, summary and description (weighted in that order); every word must match as a "
            "prefix. With fewer than 5 matches, each word also matches the names' and tags' words most like it or "
            "containing it (typos, substrings)."
        ),
    )
    kind = django_filters.ChoiceFilter(choices=AssetKind.choices)
    tag = django_filters.CharFilter(method="filter_tags", help_text="Repeat to require several tags.")
    task = django_filters.CharFilter(field_name="task", lookup_expr="iexact")
    license = django_filters.CharFilter(field_name="license", lookup_expr="iexact")
    framework = django_filters.CharFilter(field_name="framework", lookup_expr="iexact")
    status = django_filters.ChoiceFilter(
        choices=ReleaseStatus.choices,
        help_text=(
            "Release status: the furthest status among the asset's versions (approved if any version is approved, "
            "then in_review, validated, validating, draft, rejected, invalid, deprecated)."
        ),
    )
    team = django_filters.CharFilter(field_name="team__slug", help_text="Slug of the owning team.")
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices)
    ordering = django_filters.ChoiceFilter(
        method="filter_noop",
        choices=[(key, key) for key in ORDERINGS],
        help_text="relevance (default with q), -updated (default without), name, -name, created, -created, updated, "
        "-used (most live endpoints first).",
    )

    class Meta:
        model = Asset
        fields = ["q", "kind", "tag", "task", "license", "framework", "status", "team", "visibility", "ordering"]

    def filter_noop(self, queryset, name, value):
        # Applied by the selector: search ranking and ordering depend on each other.
        return queryset

    def filter_tags(self, queryset, name, value):
        values = self.data.getlist("tag") if hasattr(self.data, "getlist") else [value]
        tags = {tag.strip().lower() for tag in values if tag.strip()}
        if not tags:
            return queryset
        # One subquery however many tags: the assets holding all of them (GROUP BY ... HAVING).
        holding_all = (
            Asset.tags.through.objects.filter(tag__name__in=tags)
            .values("asset_id")
            .annotate(found=Count("tag_id", distinct=True))
            .filter(found=len(tags))
            .values("asset_id")
        )
        return queryset.filter(pk__in=holding_all)


def too_many_values(params) -> str | None:
    """Why a query string is over the search bounds, or None when it is within them."""
    keys = list(params.keys())
    total = sum(len(params.getlist(key)) for key in keys) if hasattr(params, "getlist") else len(keys)
    if total > MAX_QUERY_PARAMETERS:
        return f"at most {MAX_QUERY_PARAMETERS} query parameters per search."
    if hasattr(params, "getlist") and len(params.getlist("tag")) > MAX_TAG_FILTERS:
        return f"tag: at most {MAX_TAG_FILTERS} tags per search."
    for key in keys:
        values = params.getlist(key) if hasattr(params, "getlist") else [params[key]]
        if any(len(value) > MAX_PARAMETER_CHARS for value in values):
            return f"{key}: at most {MAX_PARAMETER_CHARS} characters."
    return None
