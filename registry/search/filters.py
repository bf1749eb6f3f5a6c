import django_filters
from django.db.models import Count

from registry.assets.models import Asset
from registry.search.vocabulary import FILTERS_BY_NAME, ORDERING_HELP, ORDERINGS, PARAMETERS, TAG, TEAM, WORDS_HELP

# Bounds on a search request, so no query string can make the database work without limit.
MAX_TAG_FILTERS = 10
MAX_QUERY_PARAMETERS = 30
MAX_PARAMETER_CHARS = 500


def _declared(name: str, **how) -> django_filters.Filter:
    """The vocabulary's filter `name` as a django-filter Filter: choices and help text from the vocabulary, `how`
    (field_name, lookup_expr, method) from the caller: how the filter reads the Asset table."""
    declared = FILTERS_BY_NAME[name]
    if declared.help_text:
        how["help_text"] = declared.help_text
    if declared.choices is not None:
        return django_filters.ChoiceFilter(choices=declared.choices.choices, **how)
    return django_filters.CharFilter(**how)


class AssetFilter(django_filters.FilterSet):
    """The catalogue's filters (registry/search/vocabulary.py) as a FilterSet: its form is what parse_search
    validates a query string with. It declares every filter of the vocabulary, and nothing else but `q` and
    `ordering` (tests/registry/test_search_vocabulary.py holds it to that)."""

    q = django_filters.CharFilter(method="filter_noop", help_text=WORDS_HELP)
    kind = _declared("kind")
    tag = _declared(TAG, method="filter_tags")
    task = _declared("task", field_name="task", lookup_expr="iexact")
    license = _declared("license", field_name="license", lookup_expr="iexact")
    framework = _declared("framework", field_name="framework", lookup_expr="iexact")
    status = _declared("status")
    team = _declared(TEAM, field_name="team__slug")
    visibility = _declared("visibility")
    ordering = django_filters.ChoiceFilter(
        method="filter_noop", choices=[(o.name, o.name) for o in ORDERINGS], help_text=ORDERING_HELP
    )

    class Meta:
        model = Asset
        fields = list(PARAMETERS)

    def filter_noop(self, queryset, name, value):
        # Applied by the selector: search ranking and ordering depend on each other.
        return queryset

    def filter_tags(self, queryset, name, value):
        values = self.data.getlist(name) if hasattr(self.data, "getlist") else [value]
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
    if hasattr(params, "getlist") and len(params.getlist(TAG)) > MAX_TAG_FILTERS:
        return f"{TAG}: at most {MAX_TAG_FILTERS} tags per search."
    for key in keys:
        values = params.getlist(key) if hasattr(params, "getlist") else [params[key]]
        if any(len(value) > MAX_PARAMETER_CHARS for value in values):
            return f"{key}: at most {MAX_PARAMETER_CHARS} characters."
    return None
