import django_filters

from marketplace.assets.models import Asset, AssetKind, Visibility

ORDERINGS = {
    "relevance": None,  # by search rank when there is a query, else like -updated
    "name": ("name", "slug"),
    "-name": ("-name", "slug"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "updated": ("updated_at", "pk"),
    "-updated": ("-updated_at", "-pk"),
}


class AssetFilter(django_filters.FilterSet):
    """Catalogue filters shared by the API list and the portal's list page."""

    q = django_filters.CharFilter(method="filter_noop", help_text="Full-text query over name, tags, summary "
                                  "and description; every word must match (prefix match).")
    kind = django_filters.ChoiceFilter(choices=AssetKind.choices)
    tag = django_filters.CharFilter(method="filter_tags", help_text="Repeat to require several tags.")
    task = django_filters.CharFilter(field_name="task", lookup_expr="iexact")
    license = django_filters.CharFilter(field_name="license", lookup_expr="iexact")
    framework = django_filters.CharFilter(field_name="framework", lookup_expr="iexact")
    team = django_filters.CharFilter(field_name="team__slug", help_text="Slug of the owning team.")
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices)
    ordering = django_filters.ChoiceFilter(
        method="filter_noop", choices=[(key, key) for key in ORDERINGS],
        help_text="relevance (default with q), -updated (default without), name, -name, created, -created, updated.",
    )

    class Meta:
        model = Asset
        fields = ["q", "kind", "tag", "task", "license", "framework", "team", "visibility", "ordering"]

    def filter_noop(self, queryset, name, value):
        # Applied by the selector: search ranking and ordering depend on each other.
        return queryset

    def filter_tags(self, queryset, name, value):
        for tag in self.data.getlist("tag") if hasattr(self.data, "getlist") else [value]:
            # One join per tag: an asset must carry all of them.
            queryset = queryset.filter(tags__name=tag.strip().lower())
        return queryset
