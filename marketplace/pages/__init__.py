"""The portal: server-rendered pages over the same selectors and services as the API (presentation layer)."""
