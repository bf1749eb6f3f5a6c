"""Every `code` an API error carries is an ErrorCode member: no free strings at raise sites, and none in answers."""

import ast
from pathlib import Path

import pytest
from rest_framework import exceptions

from marketplace.api.exceptions import exception_handler
from registry.kernel.errors import Conflict, DomainError, ErrorCode, InvalidInput

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    p for area in ("registry", "marketplace") for p in (REPO / area).rglob("*.py") if "migrations" not in p.parts
)


def _string(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) or isinstance(node, ast.JoinedStr)


def _free_codes(tree: ast.AST) -> list[tuple[int, str]]:
    """`code="..."` passed to a call, `code = "..."` in a class body, `"code": "..."` in a dict literal."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found += [(k.value.lineno, "code=...") for k in node.keywords if k.arg == "code" and _string(k.value)]
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                targets = item.targets if isinstance(item, ast.Assign) else []
                if any(isinstance(t, ast.Name) and t.id == "code" for t in targets) and _string(item.value):
                    found.append((item.lineno, "code = ..."))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "code" and _string(value):
                    found.append((value.lineno, '"code": ...'))
    return found


def test_no_error_code_is_a_free_string():
    offenders = [
        f"{path.relative_to(REPO)}:{line}: {what}"
        for path in SOURCES
        for line, what in _free_codes(ast.parse(path.read_text(), str(path)))
    ]
    assert not offenders, "use an ErrorCode member:\n" + "\n".join(offenders)


def test_the_walk_finds_free_strings():
    tree = ast.parse('raise Conflict("x", code="taken")\nclass E(Conflict):\n    code = "e"\nbody = {"code": "oops"}')
    assert sorted(_free_codes(tree)) == [(1, "code=..."), (3, "code = ..."), (4, '"code": ...')]


def test_a_domain_error_refuses_a_code_the_api_does_not_document():
    assert InvalidInput("x", code=ErrorCode.NAME_TAKEN).code is ErrorCode.NAME_TAKEN
    assert Conflict("x").code is ErrorCode.CONFLICT
    with pytest.raises(ValueError):
        Conflict("x", code="no_such_code")
    with pytest.raises(ValueError):
        type("Undocumented", (DomainError,), {"code": "no_such_code"})


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_domain_error_class_carries_an_error_code():
    # The modules declaring subclasses of their own.
    import registry.cards.fields
    import registry.lineage.services

    assert registry.cards.fields.WrongShape and registry.lineage.services.LineageCycle

    declared = [cls for cls in _subclasses(DomainError) if cls.__module__.startswith(("registry.", "marketplace."))]
    assert len(declared) >= 12
    assert [cls for cls in declared if type(cls.code) is not ErrorCode] == []


@pytest.mark.parametrize(
    "exc, code",
    [
        (exceptions.NotAuthenticated(), "not_authenticated"),
        (exceptions.AuthenticationFailed(), "authentication_failed"),
        (exceptions.PermissionDenied(), "permission_denied"),
        (exceptions.NotFound(), "not_found"),
        (exceptions.MethodNotAllowed("PUT"), "method_not_allowed"),
        (exceptions.UnsupportedMediaType("text/csv"), "unsupported_media_type"),
        (exceptions.ParseError(), "parse_error"),
        (exceptions.ValidationError({"name": ["Required."]}), "invalid"),
        (exceptions.APIException(), "error"),
        (exceptions.Throttled(), "throttled"),
        (exceptions.NotAcceptable(), "error"),  # every client gets JSON: not a documented code
        (exceptions.AuthenticationFailed(code="token_expired"), "token_expired"),
    ],
)
def test_the_api_layer_answers_with_error_codes(rf, exc, code):
    response = exception_handler(exc, {"request": rf.get("/api/v1/teams/")})
    assert response.data["code"] == code and isinstance(response.data["code"], ErrorCode)


def _codes_asserted_in_tests() -> set[str]:
    """String literals the tests compare an error body's `code` with: `...["code"] == "x"` or `in {"x", ...}`."""
    found = set()
    for path in (REPO / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Subscript)):
                continue
            key = node.left.slice
            if not (isinstance(key, ast.Constant) and key.value == "code"):
                continue
            for right in node.comparators:
                items = right.elts if isinstance(right, ast.Set | ast.List | ast.Tuple) else [right]
                found |= {i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)}
    return found


def test_every_code_the_tests_expect_is_an_error_code():
    expected = _codes_asserted_in_tests()
    assert {"not_found", "invalid", "duplicate_version", "lineage_cycle"} <= expected  # the walk finds them
    assert expected <= set(ErrorCode.values)
