"""OpenAPI generation: every operation documents the JSON errors it can answer with."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from registry.kernel.errors import ErrorCode


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What is wrong, for a person to read.")
    code = serializers.ChoiceField(
        choices=ErrorCode.choices, help_text="What went wrong, for a program to branch on; new values may be added."
    )
    field = serializers.CharField(required=False, help_text="The input field at fault, when there is one.")
    errors = serializers.JSONField(required=False, help_text="Per-field messages of an invalid input.")


_ERRORS = {
    "400": "Invalid input; `detail` says what to change.",
    "401": "No credentials, or an invalid, revoked or expired token.",
    "403": "Signed in, but not allowed to do this, or the token lacks the scope it needs (`insufficient_scope`).",
    "404": "Not found, or not visible to you.",
    "409": "Conflicts with the current state (duplicate, last maintainer, ...).",
    "413": "The request body is over the size limit.",
    "415": "Unsupported Content-Type for the request body.",
    "429": "Too many requests from this token or address; `Retry-After` says how many seconds to wait.",
    "503": "Storage, the database or the identity provider unavailable or too slow right now; try again.",
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_WITH_BODY = {"POST", "PUT", "PATCH"}


class ModelhubAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "404", "429", "503"]
        if self.method in _WRITES:
            codes += ["409"]
        if self.method in _WITH_BODY:
            codes += ["413", "415"]
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code]["description"] = _ERRORS[code]
        return responses
