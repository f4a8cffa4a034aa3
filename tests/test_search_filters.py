"""The filter registry: one declaration gives the API, OpenAPI, both pages' forms, facets and SQL;
the library list and search take the same parameters with the same errors."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import Role
from library.models import Visibility
from search.filters import SearchFilters, registry
from search.filters.base import ChoiceFilter
from tests.factories import SampleFactory, UserFactory, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def studio():
    return UserFactory(role=Role.STUDIO)


@pytest.fixture
def shared_filter():
    """A filter declared only here: whether a sample is shared, with a facet."""
    declared = ChoiceFilter(
        "shared",
        label="Shared",
        column="visibility",
        choices=[("public", "Shared"), ("private", "Not shared")],
        facet=True,
    )
    with registry.declared(declared):
        yield declared


def names(response, key="results") -> set[str]:
    assert response.status_code == 200, response.content[:500]
    return {item["name"] for item in response.json()[key]}


def test_a_filter_declared_once_works_in_the_api_the_pages_and_the_facets(
    client, studio, shared_filter
):
    SampleFactory(owner=studio, name="Open kick", category="kick", visibility=Visibility.PUBLIC)
    SampleFactory(owner=studio, name="Secret kick", category="kick")
    SampleFactory(owner=studio, name="Open snare", category="snare", visibility="public")
    auth = bearer(studio)

    # The search API, with and without text, and the library list API.
    search = "/api/v1/search"
    assert names(client.get(search, {"shared": "public"}, **auth)) == {"Open kick", "Open snare"}
    assert names(client.get(search, {"q": "kick", "shared": "private"}, **auth)) == {"Secret kick"}
    assert names(client.get("/api/v1/audio/", {"shared": "private"}, **auth)) == {"Secret kick"}

    # Validation, in the API's error shape, the same in both.
    for url in (search, "/api/v1/audio/"):
        response = client.get(url, {"shared": "everyone"}, **auth)
        assert response.status_code == 400
        assert "shared" in response.json()["error"]["details"]

    # Facets: counted by the new filter, each leaving out its own filter.
    body = client.get(search, {"facets": "true", "category": "kick"}, **auth).json()
    shared = {item["value"]: item["count"] for item in body["facets"]["shared"]}
    assert shared == {"public": 1, "private": 1}
    body = client.get(search, {"facets": "true", "shared": "public"}, **auth).json()
    assert {item["value"]: item["count"] for item in body["facets"]["category"]} == {
        "kick": 1,
        "snare": 1,
    }

    # OpenAPI documents it on both lists, with its choices.
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/search", "/api/v1/audio/"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["shared"]["schema"]["enum"] == ["public", "private"]

    # Both pages' filter forms offer it, show it applied, and filter with it.
    client.force_login(studio)
    for page in (reverse("library:list"), reverse("search:search")):
        content = client.get(page, {"shared": "public"}).content.decode()
        assert '<select name="shared">' in content
        assert '<option value="public" selected>Shared</option>' in content
        assert "Secret kick" not in content and "Open kick" in content
    # The search page's facet list links to it.
    content = client.get(reverse("search:search"), {"q": "kick"}).content.decode()
    assert re.search(r'class="facet" href="\?[^"]*shared=private[^"]*">Not shared', content)


def test_an_undeclared_filter_field_names_where_to_declare_it():
    with pytest.raises(TypeError, match="registry.register"):
        SearchFilters(loudness_range=3)


@pytest.mark.parametrize(
    "params",
    [
        {"key": "Am"},
        {"key": "8A", "compatible": "true"},
        {"key": "H"},
        {"key": "Am", "mode": "major"},
        {"compatible": "true"},
        {"bpm_min": "fast"},
        {"bpm_min": "140", "bpm_max": "100"},
        {"category": "kik"},
        {"category": "kick,snare"},
        {"loudness_min": "-20"},
        {"loudness_max": "50"},
        {"duration_max": "-1"},
        {"tags": "dark, dusty"},
        {"status": "ready"},
        {"status": "done"},
        {"visibility": "public"},
        {"is_loop": "maybe"},
        {"collection": "0"},
        {"mine": "true"},
    ],
)
def test_library_and_search_take_the_same_parameters_with_the_same_errors(client, studio, params):
    auth = bearer(studio)
    library = client.get("/api/v1/audio/", params, **auth)
    search = client.get("/api/v1/search", params, **auth)
    assert library.status_code == search.status_code, (library.content, search.content)
    if library.status_code == 400:
        assert library.json()["error"]["details"] == search.json()["error"]["details"]
    else:
        assert library.status_code == 200


def test_key_am_narrows_the_library_list_as_it_narrows_search(client, studio):
    SampleFactory(owner=studio, name="Pad Am", key="A", mode="minor")
    SampleFactory(owner=studio, name="Pad A", key="A", mode="major")
    auth = bearer(studio)
    assert names(client.get("/api/v1/audio/", {"key": "Am"}, **auth)) == {"Pad Am"}
    assert names(client.get("/api/v1/search", {"key": "Am"}, **auth)) == {"Pad Am"}


def test_status_filters_search_as_it_filters_the_library(client, studio):
    SampleFactory(owner=studio, name="Done kick", category="kick")
    SampleFactory(owner=studio, name="Broken kick", category="kick", status="failed")
    auth = bearer(studio)
    for params in ({"status": "failed"}, {"status": "failed", "q": "kick"}):
        assert names(client.get("/api/v1/search", params, **auth)) == {"Broken kick"}
    assert names(client.get("/api/v1/audio/", {"status": "failed"}, **auth)) == {"Broken kick"}
