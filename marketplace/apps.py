from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    """The project's own app: management commands, and the migrations that once held the catalogue's models (they
    moved to `registry` in marketplace 0014). It has no models."""

    name = "marketplace"
    verbose_name = "Marketplace"
