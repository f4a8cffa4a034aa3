"""The API's shared behaviour: error shape, schema and docs."""

import pytest


@pytest.mark.django_db
def test_unknown_api_path_gets_a_json_error_in_the_shared_shape(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No such API endpoint.", "details": {}}
    }


@pytest.mark.django_db
def test_schema_lists_the_health_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert "/api/v1/health" in response.json()["paths"]


@pytest.mark.django_db
def test_api_docs_page_loads_swagger_ui_from_our_own_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower()


@pytest.mark.django_db
def test_visitors_find_the_api_docs_and_only_staff_the_admin(client):
    from tests.factories import UserFactory

    visitor = client.get("/").content.decode()
    client.force_login(UserFactory(is_staff=True))
    staff = client.get("/library/").content.decode()

    assert 'href="/api/docs/"' in visitor
    assert 'href="/admin/"' not in visitor
    assert 'href="/admin/">Admin</a>' in staff


@pytest.mark.django_db
def test_openapi_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = out.read_text()
    assert "/api/v1/auth/login" in schema
    assert "ApiKey" in schema and "jwtAuth" in schema


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", ["ten", "0", "201", "1.5"])
def test_a_page_size_that_is_not_a_whole_number_in_range_is_refused(client, page_size):
    from tests.factories import UserFactory, bearer

    response = client.get("/api/v1/audio/", {"page_size": page_size}, **bearer(UserFactory()))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "page_size" in error["details"]


@pytest.mark.django_db
def test_schema_documents_the_shared_error_shape_and_the_page_bounds(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    listing = schema["paths"]["/api/v1/audio/"]["get"]
    upload = schema["paths"]["/api/v1/audio/upload"]["post"]

    for status in ("400", "401", "403", "404", "429"):
        content = listing["responses"][status]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Error"}
    assert {"409", "413"} <= set(upload["responses"])
    assert set(schema["paths"]["/api/v1/health"]["get"]["responses"]) == {"200", "503"}
    error = schema["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message", "details"}
    page_size = next(p for p in listing["parameters"] if p["name"] == "page_size")
    assert (page_size["schema"]["minimum"], page_size["schema"]["maximum"]) == (1, 200)
    ordering = next(p for p in listing["parameters"] if p["name"] == "ordering")
    assert "-created_at" in ordering["schema"]["items"]["enum"]
