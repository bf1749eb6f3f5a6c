"""Modelhub's Python client and `modelhub` command line (marketplace/client/README.md). No Django in here."""

from marketplace.client.cache import IntegrityError
from marketplace.client.client import Client, ModelhubError, Unreachable, parse_ref

__all__ = ["Client", "IntegrityError", "ModelhubError", "Unreachable", "parse_ref"]
