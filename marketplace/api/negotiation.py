from rest_framework.negotiation import DefaultContentNegotiation


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """The API speaks JSON to everybody, whatever the Accept header or ?format= says.

    A browser opening an API URL gets JSON (as from GitHub's API) instead of a browsable page or a
    406; the human-facing views are the portal and the Swagger UI at /api/docs/.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
