"""The Django admin of every Modelhub model (discovered by django.contrib.admin as `marketplace.admin`)."""

from marketplace.admin import catalogue, releases

__all__ = ["catalogue", "releases"]
