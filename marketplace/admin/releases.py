from django.contrib import admin

from marketplace.admin.readonly import ReadOnlyAdmin
from registry.governance.services import review_policy_changed
from registry.models import (
    AssetVersion,
    Blob,
    Endpoint,
    EndpointKey,
    LineageEdge,
    ModelCard,
    Review,
    ReviewPolicy,
    ReviewRound,
    SigningKey,
    TrustedUpstreamKey,
    ValidationReport,
    VersionFile,
    Webhook,
    WebhookDelivery,
)


class VersionFileInline(admin.TabularInline):
    model = VersionFile
    extra = 0
    can_delete = False
    readonly_fields = ["path", "blob", "is_primary"]

    def has_add_permission(self, request, obj=None):
        return False


class ValidationReportInline(admin.StackedInline):
    model = ValidationReport
    can_delete = False
    readonly_fields = [
        "outcome",
        "failed_check",
        "reason",
        "details",
        "attempts",
        "task_id",
        "claimed_at",
        "started_at",
        "finished_at",
    ]


@admin.register(AssetVersion)
class AssetVersionAdmin(admin.ModelAdmin):
    list_display = ["asset", "version", "status", "size", "created_at"]
    list_filter = ["status", "asset__kind"]
    search_fields = ["asset__slug", "version", "sha256"]
    list_select_related = ["asset"]
    # Files, checksums and lifecycle state change only through services, never by hand.
    readonly_fields = [
        "asset",
        "version",
        "major",
        "minor",
        "patch",
        "prerelease",
        "is_prerelease",
        "status",
        "status_changed_at",
        "filename",
        "sha256",
        "size",
        "signature",
        "created_by",
        "created_at",
    ]
    inlines = [VersionFileInline, ValidationReportInline]

    def has_add_permission(self, request):
        return False


@admin.register(Blob)
class BlobAdmin(admin.ModelAdmin):
    list_display = ["sha256", "size", "created_at"]
    search_fields = ["sha256"]
    readonly_fields = ["sha256", "size", "created_at"]


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "approvals_required", "forbid_owning_team", "min_card_completeness", "updated_at"]
    filter_horizontal = ["reviewer_groups"]

    def save_related(self, request, form, formsets, change):
        # After the M2M groups are saved, so the audit event records the policy as it now is.
        super().save_related(request, form, formsets, change)
        review_policy_changed(user=request.user, policy=form.instance, changed=list(form.changed_data) or ["created"])


class ReviewInline(admin.TabularInline):
    model = Review
    extra = 0
    can_delete = False
    readonly_fields = ["reviewer", "decision", "comment", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReviewRound)
class ReviewRoundAdmin(ReadOnlyAdmin):
    """Read-only: rounds and reviews change only through the review services (and are audited)."""

    list_display = ["version", "number", "status", "submitted_by", "submitted_at"]
    list_filter = ["status"]
    inlines = [ReviewInline]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    """Read-only: keys are added and rotated with `manage.py signingkey` (key store, one active key, audit)."""

    list_display = ["key_id", "name", "status", "created_at", "activated_at", "retired_at", "revoked_at"]
    list_filter = ["status"]
    search_fields = ["key_id", "name"]


@admin.register(TrustedUpstreamKey)
class TrustedUpstreamKeyAdmin(ReadOnlyAdmin):
    """Read-only: trusted with `manage.py signingkey trust` / `untrust` (audited)."""

    list_display = ["key_id", "name", "added_at", "revoked_at"]
    search_fields = ["key_id", "name"]


@admin.register(ModelCard)
class ModelCardAdmin(admin.ModelAdmin):
    list_display = ["version", "license", "updated_by", "updated_at"]
    search_fields = ["version__asset__slug", "version__version"]
    list_select_related = ["version__asset", "updated_by"]
    # Cards change through registry.cards.services (validation, freeze rule, audit), never here.
    readonly_fields = [
        "version",
        "sections",
        "body",
        "license",
        "tags",
        "datasets",
        "metrics",
        "base_model",
        "library_name",
        "pipeline_tag",
        "model_index",
        "extra",
        "updated_by",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LineageEdge)
class LineageEdgeAdmin(ReadOnlyAdmin):
    """Read-only: edges are declared and removed through the services (permission, cycle check, audit)."""

    list_display = ["source", "kind", "target", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["source__asset__slug", "target__asset__slug"]
    list_select_related = ["source", "target", "created_by"]
    readonly_fields = ["source", "target", "kind", "created_by", "created_at"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Read-only but for `active`: webhooks are created and deleted through the API (permission, audit, secret)."""

    list_display = ["pk", "team", "url", "active", "created_by", "created_at"]
    list_filter = ["active"]
    search_fields = ["team__slug", "url"]
    list_select_related = ["team", "created_by"]
    fields = ["team", "url", "events", "secret_prefix", "active", "created_by", "created_at"]
    readonly_fields = ["team", "url", "events", "secret_prefix", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["pk", "webhook", "event", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = [
        "webhook",
        "event",
        "payload",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "response_ms",
        "created_at",
        "delivered_at",
        "next_attempt_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EndpointKeyInline(admin.TabularInline):
    model = EndpointKey
    extra = 0
    can_delete = False
    fields = readonly_fields = ["prefix", "created_by", "created_at", "revoked_at", "internal"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    """Read-only: endpoints change only through the services (the runtime must follow every change)."""

    list_display = ["name", "team", "version", "status", "backend", "created_at"]
    list_filter = ["status", "backend", "visibility"]
    search_fields = ["name", "team__slug", "version__asset__slug"]
    list_select_related = ["team", "version"]
    inlines = [EndpointKeyInline]
