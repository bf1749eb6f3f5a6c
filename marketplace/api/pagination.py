from datetime import UTC

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    """Page-number pagination that refuses a bad `page_size` instead of silently ignoring it."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if (
            len(values) > 1
            or not values[0].isascii()
            or not values[0].isdigit()
            or not 1 <= int(values[0]) <= self.max_page_size
        ):
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}, given once."]}
            )
        return int(values[0])

    def get_page_number(self, request, paginator):
        values = request.query_params.getlist(self.page_query_param)
        if not values:
            return 1
        if len(values) > 1 or not values[0].isascii() or not values[0].isdigit() or int(values[0]) < 1:
            raise ValidationError({self.page_query_param: ["A whole number from 1, given once."]})
        return int(values[0])  # past the last page: DRF's 404 "Invalid page"

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


def link_with(request, **changes) -> str:
    """This request's absolute URL with some query parameters replaced (None removes one)."""
    params = request.query_params.copy()
    for name, value in changes.items():
        params.pop(name, None)
        if value is not None:
            params[name] = str(value)
    query = params.urlencode()
    return request.build_absolute_uri(request.path + (f"?{query}" if query else ""))


def keyset_links(
    request, *, next_cursor: str | None, previous_cursor: str | None, page: int | None = None
) -> tuple[str | None, str | None]:
    """`next` and `previous` URLs of a keyset-paginated list; numbered pages (`page=`) go back by number."""
    next_url = link_with(request, cursor=next_cursor, page=None) if next_cursor else None
    if page is not None:
        previous_url = link_with(request, page=page - 1 if page > 2 else None, cursor=None) if page > 1 else None
    else:
        previous_url = link_with(request, cursor=previous_cursor, page=None) if previous_cursor else None
    return next_url, previous_url


def iso_datetime(value) -> str | None:
    """A datetime as DRF's DateTimeField writes it (UTC, 'Z')."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
