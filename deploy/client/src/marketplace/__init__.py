"""The `marketplace` package as the standalone client installs it: only `marketplace.client` (no Django)."""
