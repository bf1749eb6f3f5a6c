from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser

from registry.cards.huggingface import README_MAX_BYTES
from registry.kernel.errors import PayloadTooLarge
from registry.kernel.lib.json_input import JSONRejected, parse_json


class StrictJSONParser(JSONParser):
    """JSON bodies with a size bound, bounded nesting, and no NaN, Infinity, NUL or lone surrogates.

    DRF's parser reads the whole stream and recurses without limit: 50,000 '[' are a RecursionError
    (a 500), and a body of any size is held in memory.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The JSON body is over the limit of {limit} bytes.")
        try:
            return parse_json(body)
        except JSONRejected as exc:
            raise ParseError(f"JSON parse error: {exc}") from None


class MarkdownParser(BaseParser):
    """A text/markdown body (a README.md), UTF-8, at most README_MAX_BYTES; parsed to a str."""

    media_type = "text/markdown"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = README_MAX_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The Markdown body is over the limit of {limit} bytes.")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("The Markdown body is not UTF-8 text.") from None
