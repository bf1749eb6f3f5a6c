from django.contrib import admin

from registry.models import AssetVersion, Blob, LineageEdge, ValidationReport, VersionFile


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
    readonly_fields = ["outcome", "failed_check", "reason", "details", "attempts", "task_id", "claimed_at",
                       "started_at", "finished_at"]


@admin.register(AssetVersion)
class AssetVersionAdmin(admin.ModelAdmin):
    list_display = ["asset", "version", "status", "size", "created_at"]
    list_filter = ["status", "asset__kind"]
    search_fields = ["asset__slug", "version", "sha256"]
    list_select_related = ["asset"]
    # Files, checksums and lifecycle state change only through services, never by hand.
    readonly_fields = ["asset", "version", "major", "minor", "patch", "prerelease", "is_prerelease", "status",
                       "status_changed_at", "filename", "sha256", "size", "signature", "created_by", "created_at"]
    inlines = [VersionFileInline, ValidationReportInline]

    def has_add_permission(self, request):
        return False


@admin.register(Blob)
class BlobAdmin(admin.ModelAdmin):
    list_display = ["sha256", "size", "created_at"]
    search_fields = ["sha256"]
    readonly_fields = ["sha256", "size", "created_at"]


@admin.register(LineageEdge)
class LineageEdgeAdmin(admin.ModelAdmin):
    """Read-only: edges are declared and removed through the services (permission, cycle check, audit)."""

    list_display = ["source", "kind", "target", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["source__asset__slug", "target__asset__slug"]
    list_select_related = ["source", "target", "created_by"]
    readonly_fields = ["source", "target", "kind", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
