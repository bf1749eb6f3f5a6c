from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from marketplace.errors import PayloadTooLarge
from marketplace.lib.json_input import JSONRejected, parse_json


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
