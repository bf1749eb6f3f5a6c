from django.contrib import admin

from marketplace.admin.readonly import ReadOnlyAdmin
from registry.models import APIToken, Asset, AuditEvent, Membership, Tag, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["slug", "kind", "team", "visibility", "license", "task", "latest_version", "updated_at"]
    list_filter = ["kind", "visibility", "team"]
    search_fields = ["slug", "name", "summary"]
    list_select_related = ["team"]
    readonly_fields = ["tags_text", "latest_version", "version_count", "created_at", "updated_at", "created_by"]
    filter_horizontal = ["tags"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    # The key hash is useless to a person and the key itself is never stored.
    exclude = ["key_hash"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # keys are issued through the API or `manage.py createtoken`


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_name", "action", "target_type", "target_repr", "team"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_name", "target_repr", "target_id"]
    date_hierarchy = "created_at"
