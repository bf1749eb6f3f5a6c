from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from marketplace.api.views import GenericAPIView
from registry.kernel.audit.filters import AuditFilter
from registry.kernel.audit.models import AUDIT_ACTION_CHOICES, AuditEvent
from registry.kernel.audit.selectors import audit_search


class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="Position in the hash chain.")
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name", help_text="Username; empty for the system.")
    action = serializers.ChoiceField(choices=AUDIT_ACTION_CHOICES)
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    target = serializers.CharField(source="target_repr")
    team = serializers.SerializerMethodField()
    data = serializers.JSONField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    request_id = serializers.CharField()
    hash = serializers.CharField()
    prev_hash = serializers.CharField()

    def get_team(self, event) -> str | None:
        team = getattr(event, "team", None) if event.team_id else None
        return team.slug if team else None


class AuditListView(GenericAPIView):
    serializer_class = AuditEventSerializer
    queryset = AuditEvent.objects.none()  # for the schema only; data comes from the selector
    filterset_class = AuditFilter

    @extend_schema(operation_id="audit_list", responses=AuditEventSerializer(many=True))
    def get(self, request):
        """The audit trail, newest first: your teams' objects and your own actions (administrators: everything)."""
        events = audit_search(user=request.user, params=request.query_params).select_related("team")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)

    def filter_queryset(self, queryset):
        return queryset  # the selector filters; filterset_class is here for the schema
