from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        # Each area that reacts to another's events subscribes when its module is imported
        # (registry.kernel.events); the order here is the order subscribers run in.
        from registry.endpoints import subscribers as endpoints  # noqa: F401
        from registry.examples import subscribers as examples  # noqa: F401
        from registry.lineage import subscribers as lineage  # noqa: F401
        from registry.monitoring import subscribers as monitoring  # noqa: F401
        from registry.notifications import subscribers as notifications  # noqa: F401
        from registry.search import subscribers as search  # noqa: F401
        from registry.validation import subscribers as validation  # noqa: F401
