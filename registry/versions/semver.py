import re
from dataclasses import dataclass

from registry.errors import InvalidInput

# https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# What URLs accept for {version}; anything parse_semver accepts matches it.
SEMVER_URL_PATTERN = r"[0-9A-Za-z.+\-]{1,100}"


@dataclass(frozen=True)
class SemVer:
    major: int
    minor: int
    patch: int
    prerelease: str


def parse_semver(value: str) -> SemVer:
    value = (value or "").strip()
    match = _SEMVER.match(value) if len(value) <= 100 else None
    if not match:
        hint = " (drop the leading 'v')" if value[:1] in ("v", "V") else ""
        raise InvalidInput(f"version: '{value}' is not a semantic version such as 1.0.0 or 2.1.0-rc.1{hint}.",
                           field="version")
    return SemVer(int(match[1]), int(match[2]), int(match[3]), match[4] or "")
