from django.contrib import admin

from marketplace.models import APIToken, Asset, Membership, Tag, Team


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
    list_display = ["slug", "kind", "team", "visibility", "license", "task", "updated_at"]
    list_filter = ["kind", "visibility", "team"]
    search_fields = ["slug", "name", "summary"]
    list_select_related = ["team"]
    readonly_fields = ["tags_text", "created_at", "updated_at", "created_by"]
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
