"""A real OpenID Connect provider for the tests: django-oauth-toolkit in OIDC mode, in a process of its own on
loopback (`process.identity_provider`), with a password sign-in page, groups in its ID tokens and JWT access
tokens (RFC 9068) signed with its own key. Nothing here is part of Modelhub."""
