from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from registry.kernel.audit.models import AUDIT_ACTION_CHOICES, AuditEvent, action_names, target_type_names


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, converted to UTC (PostgreSQL refuses offsets past +/-15:59)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("The time is out of range.") from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class AuditFilter(django_filters.FilterSet):
    """Filters of the audit trail, for the API and the portal."""

    action = django_filters.ChoiceFilter(choices=AUDIT_ACTION_CHOICES, method="filter_action")
    actor = django_filters.CharFilter(field_name="actor_name", help_text="Username of who acted.")
    target_type = django_filters.CharFilter(
        method="filter_target_type", help_text="e.g. registry.assetversion, registry.asset."
    )
    target_id = django_filters.CharFilter()
    team = django_filters.CharFilter(field_name="team__slug", help_text="Slug of the team the object belongs to.")
    request_id = django_filters.CharFilter()
    since = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text="ISO 8601, inclusive.")
    until = UTCDateTimeFilter(field_name="created_at", lookup_expr="lt", help_text="ISO 8601, exclusive.")

    class Meta:
        model = AuditEvent
        fields = []

    def filter_action(self, queryset, name, value):
        return queryset.filter(action__in=action_names(value))

    def filter_target_type(self, queryset, name, value):
        return queryset.filter(target_type__in=target_type_names(value))
