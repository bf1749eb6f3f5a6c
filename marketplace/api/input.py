from rest_framework import serializers
from rest_framework.serializers import ValidationError

from registry.kernel.errors import InvalidInput


def content_length(request) -> int | None:
    """The request's Content-Length, None when it sent none; a malformed one is a 400."""
    raw = request.META.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput("Malformed Content-Length header.") from None


def parse_input(serializer_class, data, **kwargs) -> dict:
    """Validate request data against an input serializer; a bad shape becomes a 400."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RejectUnknownFieldsMixin:
    """For PATCH inputs: a field the endpoint does not accept is an error, not silently ignored."""

    def validate(self, attrs):
        unknown = set(getattr(self, "initial_data", {})) - set(self.fields)
        if unknown:
            raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
        return super().validate(attrs)


class StrictStringMixin:
    """Text inputs take JSON strings only (DRF would turn 0 or true into "0" or "True"), and their
    length limit applies to what was sent, before surrounding whitespace is trimmed."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    pass


class StrictRegexField(StrictStringMixin, serializers.RegexField):
    default_error_messages = {"invalid": "Not a valid string of the expected form."}
