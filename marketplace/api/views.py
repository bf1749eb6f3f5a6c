"""Base classes of every API view."""

from django.conf import settings
from rest_framework import generics, status, views
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from registry.kernel.errors import ErrorCode, InvalidInput, PermissionDenied
from registry.runtime.auth import secret_matches
from registry.tokens.models import Scope
from registry.tokens.services import TokenUse


class KnownQueryParamsMixin:
    """A query parameter the endpoint does not document is a 400, not silently ignored.

    `?tags=x` (for `tag`) would otherwise return the whole catalogue as if it were the answer.
    """

    query_params: tuple[str, ...] = ()  # documented by the view's own @extend_schema

    def known_query_params(self) -> set[str]:
        known = {"format", *self.query_params}
        paginator = getattr(self, "paginator", None)
        if paginator is not None:
            known |= {paginator.page_query_param, paginator.page_size_query_param}
        filterset = getattr(self, "filterset_class", None)
        if filterset is not None:
            known |= set(filterset.base_filters)
        return known

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        unknown = sorted(set(request.query_params) - self.known_query_params())
        if unknown:
            names = ", ".join(repr(name[:40]) for name in unknown[:5])
            known = ", ".join(sorted(self.known_query_params() - {"format"})) or "none"
            raise InvalidInput(f"Unknown query parameter {names}; this endpoint takes: {known}.")


# Views whose writes any token may make, each within what its own token can do (the service checks that): a token
# makes tokens only with its own scopes, and may revoke its user's tokens.
ANY_SCOPE = "any"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ScopedMixin:
    """A request made with an API token needs the token to carry the view's scope: `read_scope` for reads,
    `write_scope` for the other methods (a view that writes must name it: a write with none is refused to every
    token). The session of a signed-in browser has every scope: scopes limit tokens, not people. Checked after
    authentication, before the handler; the user's own permissions apply as well."""

    read_scope: str = Scope.CATALOGUE_READ
    write_scope: str | None = None

    @classmethod
    def required_scope(cls, method: str) -> str | None:
        return cls.read_scope if method.upper() in READ_METHODS else cls.write_scope

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        token = request.auth
        if not isinstance(token, TokenUse) or not hasattr(self, request.method.lower()):
            return  # a session; or a method the view does not have, which dispatch answers with a 405
        needed = self.required_scope(request.method)
        if needed == ANY_SCOPE or (needed is not None and needed in token.scopes):
            return
        if needed is None:
            raise PermissionDenied(
                f"{request.method} here is not open to API tokens; use the portal.", code=ErrorCode.INSUFFICIENT_SCOPE
            )
        raise PermissionDenied(
            f"This token lacks the scope '{needed}' ({Scope(needed).label.lower()}), which {request.method} here "
            "needs; create a token with it.",
            code=ErrorCode.INSUFFICIENT_SCOPE,
        )


class APIView(ScopedMixin, KnownQueryParamsMixin, views.APIView):
    pass


class GenericAPIView(ScopedMixin, KnownQueryParamsMixin, generics.GenericAPIView):
    pass


class RuntimeOnlyAPIView(APIView):
    """For the inference runtime only (`Authorization: Bearer <MODELHUB_RUNTIME_SECRET>`, the same check and header
    as the runtime's own repository routes); not part of the public API. Handlers start with
    `if (refused := self.refuse_without_secret(request)) is not None: return refused`."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @staticmethod
    def refuse_without_secret(request) -> Response | None:
        if secret_matches(request.headers.get("Authorization", "").encode(), settings.MODELHUB_RUNTIME_SECRET):
            return None
        return Response(
            {"detail": "The runtime secret is required.", "code": ErrorCode.NOT_AUTHENTICATED},
            status=status.HTTP_401_UNAUTHORIZED,
        )
