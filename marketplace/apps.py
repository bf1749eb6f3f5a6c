from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    """The project's own app: management commands, and the migrations that once held the catalogue's models (they
    moved to `registry` in marketplace 0014). It has no models."""

    name = "marketplace"
    verbose_name = "Marketplace"

    def ready(self):
        from axes.signals import user_locked_out

        from marketplace.pages.accounts import lockout_audit

        user_locked_out.connect(lockout_audit, dispatch_uid="modelhub-lockout-audit")
