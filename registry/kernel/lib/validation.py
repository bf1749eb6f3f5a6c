from django.core.exceptions import ValidationError

from registry.kernel.errors import InvalidInput


def raise_invalid(exc: ValidationError):
    """Turn a model's full_clean() error into an InvalidInput naming the first bad field."""
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        message = " ".join(m for e in errors for m in e.messages)
        if field == "__all__":
            raise InvalidInput(message) from None
        raise InvalidInput(f"{field}: {message}", field=field) from None
    raise InvalidInput(" ".join(exc.messages)) from None
