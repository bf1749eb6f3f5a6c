"""Base classes of every API view."""

from rest_framework import generics, views

from registry.kernel.errors import InvalidInput


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
