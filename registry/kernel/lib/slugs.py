"""The one slug rule for teams and assets."""

from django.core.validators import RegexValidator

# Lowercase letters and digits, joined by single '-' or '_': no case variants of one name, and no
# slug made only of punctuation ('-', '_').
SLUG_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
# The same rule as a URL path converter regex (no anchors).
SLUG_URL_PATTERN = r"[a-z0-9]+(?:[-_][a-z0-9]+)*"
slug_validator = RegexValidator(
    SLUG_PATTERN, "Use lowercase letters and digits, separated by single '-' or '_' (for example resnet-50)."
)
