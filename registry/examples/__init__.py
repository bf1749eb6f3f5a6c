"""Input examples: the real values a version is called with, for validation, conformance checks and the portal."""
