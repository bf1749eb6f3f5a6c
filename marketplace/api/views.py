"""Base classes of every API view."""

from django.conf import settings
from rest_framework import generics, status, views
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from registry.kernel.errors import ErrorCode, InvalidInput
from registry.runtime.auth import secret_matches


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


class APIView(KnownQueryParamsMixin, views.APIView):
    pass


class GenericAPIView(KnownQueryParamsMixin, generics.GenericAPIView):
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
