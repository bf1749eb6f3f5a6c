import re
from dataclasses import dataclass

from registry.kernel.errors import InvalidInput

# https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string, with
# [0-9] for \d: in Python \d also takes other scripts' digits ("1١.0.0" would read as 11.0.0).
SEMVER_PATTERN = (
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_SEMVER = re.compile(SEMVER_PATTERN, re.ASCII)
# What URLs accept for {version}; anything parse_semver accepts matches it.
SEMVER_URL_PATTERN = r"[0-9A-Za-z.+\-]{1,100}"
# The database stores each number in a signed 64-bit column.
MAX_NUMBER = 2**63 - 1


@dataclass(frozen=True)
class SemVer:
    major: int
    minor: int
    patch: int
    prerelease: str


def parse_semver(value: str) -> SemVer:
    value = (value or "").strip()
    match = _SEMVER.fullmatch(value) if len(value) <= 100 else None
    if not match:
        hint = " (drop the leading 'v')" if value[:1] in ("v", "V") else ""
        raise InvalidInput(
            f"version: '{value}' is not a semantic version such as 1.0.0 or 2.1.0-rc.1{hint}.", field="version"
        )
    numbers = [int(match[1]), int(match[2]), int(match[3])]
    if max(numbers) > MAX_NUMBER:
        raise InvalidInput(f"version: each number of '{value}' must be at most {MAX_NUMBER}.", field="version")
    return SemVer(*numbers, match[4] or "")
