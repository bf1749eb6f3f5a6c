import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

EXPECTED = {
    "/api/v1/teams/{slug}/service-accounts/": {"get", "post"},
    "/api/v1/teams/{slug}/service-accounts/{name}/": {"delete"},
    "/api/v1/teams/{slug}/service-accounts/{name}/tokens": {"post"},
    "/api/v1/assets/": {"get", "post"},
    "/api/v1/assets/{team}/{slug}/": {"get", "patch", "delete"},
    "/api/v1/assets/{team}/{slug}/versions/": {"get", "post"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/": {"get", "patch"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/download": {"get"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/submit": {"post"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/reviews": {"get", "post"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/deprecate": {"post"},
    "/api/v1/assets/{team}/{slug}/versions/@{alias}/": {"get"},
    "/api/v1/assets/{team}/{slug}/aliases/": {"get"},
    "/api/v1/assets/{team}/{slug}/subscription": {"get", "put", "delete"},
    "/api/v1/subscriptions/": {"get"},
    "/api/v1/assets/{team}/{slug}/aliases/{alias}": {"get", "put", "delete"},
    "/api/v1/reviews/": {"get"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/signature": {"get"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/signature/verification": {"get"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/approval": {"get"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/bom": {"get"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/tags": {"get", "patch"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/metrics": {"get", "put"},
    "/api/v1/signing-key": {"get"},
    "/api/v1/signing-keys": {"get"},
    "/api/v1/signing-keys/{key_id}": {"get"},
    "/api/v1/audit/": {"get"},
    "/api/v1/assets/{team}/{slug}/uploads/": {"get", "post"},
    "/api/v1/assets/{team}/{slug}/uploads/{session_id}": {"get", "delete"},
    "/api/v1/assets/{team}/{slug}/uploads/{session_id}/parts/{number}": {"put"},
    "/api/v1/assets/{team}/{slug}/uploads/{session_id}/complete": {"post"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/card": {"get", "put"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/card/readme": {"get", "put"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/input-example": {"get", "put", "delete"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/lineage": {"get", "post"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/lineage/{edge_id}": {"delete"},
    "/api/v1/assets/{team}/{slug}/versions/{version}/impact": {"get"},
    "/api/v1/teams/": {"get", "post"},
    "/api/v1/teams/{slug}/": {"get"},
    "/api/v1/teams/{slug}/members/": {"get", "post"},
    "/api/v1/teams/{slug}/members/{username}/": {"patch", "delete"},
    "/api/v1/teams/{slug}/webhooks/": {"get", "post"},
    "/api/v1/teams/{slug}/webhooks/{id}/": {"get", "patch", "delete"},
    "/api/v1/teams/{slug}/webhooks/{id}/deliveries/": {"get"},
    "/api/v1/teams/{slug}/webhooks/{id}/test": {"post"},
    "/api/v1/endpoints/": {"get", "post"},
    "/api/v1/endpoints/{id}/": {"get", "patch", "delete"},
    "/api/v1/endpoints/{id}/keys/": {"get", "post"},
    "/api/v1/endpoints/{id}/keys/{key_id}/": {"delete"},
    "/api/v1/endpoints/{id}/monitoring": {"get"},
    "/api/v1/endpoints/{id}/monitoring/settings": {"patch"},
    "/api/v1/endpoints/{id}/monitoring/reports/{report_id}": {"get"},
    "/api/v1/endpoints/{id}/feedback": {"post"},
    "/api/v1/endpoints/{id}/shadow": {"get", "put", "delete"},
    "/api/v1/tokens/": {"get", "post"},
    "/api/v1/tokens/{id}/": {"delete"},
}


def test_schema_is_valid_without_warnings_and_covers_every_endpoint(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = {path: set(methods) - {"parameters"} for path, methods in schema["paths"].items()}
    assert paths == EXPECTED
    upload = schema["paths"]["/api/v1/assets/{team}/{slug}/versions/"]["post"]
    assert set(upload["responses"]) >= {"202", "400", "401", "403", "404", "409", "413"}
    assert "201" in schema["paths"]["/api/v1/teams/"]["post"]["responses"]
    assert "201" in schema["paths"]["/api/v1/assets/"]["post"]["responses"]
    download = schema["paths"]["/api/v1/assets/{team}/{slug}/versions/{version}/download"]["get"]
    assert download["responses"]["200"]["content"]["application/octet-stream"]["schema"]["format"] == "binary"
    version_field = schema["components"]["schemas"]["VersionUploadRequest"]["properties"]["version"]
    assert version_field["pattern"].startswith("^(0|[1-9][0-9]*)")
    patch = schema["paths"]["/api/v1/assets/{team}/{slug}/versions/{version}/"]["patch"]["requestBody"]
    assert schema["components"]["schemas"][patch["content"]["application/json"]["schema"]["$ref"].split("/")[-1]][
        "required"
    ] == ["metadata"]
    error = schema["paths"]["/api/v1/teams/"]["get"]["responses"]["401"]["content"]["application/json"]["schema"]
    assert error["$ref"].endswith("/Error")
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "facets" in schema["components"]["schemas"]["AssetPage"]["properties"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    readme = schema["paths"]["/api/v1/assets/{team}/{slug}/versions/{version}/card/readme"]
    assert "text/markdown" in readme["get"]["responses"]["200"]["content"]
    assert "text/markdown" in readme["put"]["requestBody"]["content"]
    assert set(readme["put"]["responses"]) >= {"200", "400", "403", "404", "409", "413", "415"}


def test_schema_and_docs_are_served(anon_api):
    assert anon_api.get("/api/schema/").status_code == 200
    docs = anon_api.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_unknown_api_path_is_json_404(alice_api):
    response = alice_api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def _generated_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_error_schema_lists_every_error_code():
    from registry.kernel.errors import ErrorCode

    schemas = _generated_schema()["components"]["schemas"]
    code = schemas["Error"]["properties"]["code"]
    refs = [code.get("$ref")] + [part.get("$ref") for part in code.get("allOf", [])]
    assert "#/components/schemas/ErrorCodeEnum" in refs
    assert schemas["ErrorCodeEnum"]["enum"] == ErrorCode.values
    assert "code" in schemas["Error"]["required"]


def test_the_served_schema_lists_every_error_code(anon_api):
    from registry.kernel.errors import ErrorCode

    schema = yaml.safe_load(anon_api.get("/api/schema/").content)
    assert set(schema["components"]["schemas"]["ErrorCodeEnum"]["enum"]) == set(ErrorCode.values)


def test_the_catalogue_search_documents_the_vocabulary():
    from registry.search.vocabulary import FILTERS, ORDERINGS, PARAMETERS

    search = _generated_schema()["paths"]["/api/v1/assets/"]["get"]
    parameters = {p["name"]: p for p in search["parameters"]}
    assert set(parameters) == {*PARAMETERS, "cursor", "page", "page_size"}
    assert parameters["ordering"]["schema"]["enum"] == sorted([*(o.name for o in ORDERINGS), ""])  # empty: the default
    for declared in FILTERS:
        schema = parameters[declared.name]["schema"]
        if declared.choices:
            assert schema["enum"] == sorted([*declared.choices.values, ""])  # empty: no filter
        assert (schema["type"] == "array") == declared.many
        assert declared.help_text in parameters[declared.name].get("description", "")
