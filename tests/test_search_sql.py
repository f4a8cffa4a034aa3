"""The finished statements of a search can be read: search_sql prints them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import SampleFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_search_sql_prints_each_statement_with_its_values_filled_in():
    producer = UserFactory(email="sql@example.com")
    SampleFactory(owner=producer, name="Moody pad", category="pad", key="A", mode="minor")
    out = StringIO()
    call_command(
        "search_sql", "moody pad", user="sql@example.com", params="key=Am", facets=True,
        stdout=out,
    )  # fmt: skip
    printed = out.getvalue()
    assert "-- read 'pad' as Category: pad" in printed
    # The ranking statement and the facets', each complete: values inlined, no placeholders.
    assert printed.count(";\n") == 2
    assert "websearch_to_tsquery('english'::regconfig, search_normalise('moody'))" in printed
    assert """"d"."key" = 'A' AND "d"."mode" = 'minor'""" in printed and "%(" not in printed
    assert "-- 1 match(es), 1 on the page" in printed


def test_search_sql_refuses_bad_filters_clearly():
    with pytest.raises(CommandError, match="bpm_min"):
        call_command("search_sql", "kick", params="bpm_min=fast", stdout=StringIO())
