"""Print the finished SQL statements of a search, as PostgreSQL receives them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict
from django.test import override_settings
from rest_framework.exceptions import ValidationError

from search import selectors
from search.backends import get_search_backend
from search.filters import registry
from search.understanding import understand


class Command(BaseCommand):
    help = (
        'Run a search and print each statement it sends, parameters filled in: search_sql "dark '
        'pad" --user EMAIL --params "key=Am&bpm_min=90" [--facets] [--similar-to ID].'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("text", nargs="?", default="", help="What is typed in the box.")
        parser.add_argument("--user", help="Whose search (email); anonymous when left out.")
        parser.add_argument("--params", default="", help="Filter parameters, as a query string.")
        parser.add_argument("--facets", action="store_true", help="Also count the facets.")
        parser.add_argument("--similar-to", help="A sample id: hybrid search, or its neighbours.")
        parser.add_argument(
            "--literal", action="store_true", help="Search the words as typed, unread."
        )

    def handle(self, *args, text: str, user: str | None, params: str, facets: bool,
               similar_to: str | None, literal: bool, **options) -> None:  # fmt: skip
        caller = AnonymousUser()
        if user:
            caller = get_user_model().objects.filter(email__iexact=user).first()
            if caller is None:
                raise CommandError(f"No user with the email {user}.")
        try:
            filters = registry.parse(QueryDict(params))
        except ValidationError as exc:
            raise CommandError(f"Bad filters: {exc.detail}") from None
        understood = understand(text, filters, literal=[text] if literal else ())
        for reading in understood.readings:
            self.stdout.write(f"-- read {reading.phrase!r} as {reading.label}")
        source = None
        if similar_to:
            source = selectors.visible_sample(user=caller, sample_id=similar_to)
            if source is None:
                raise CommandError(f"No sample {similar_to} visible to this user.")
        statements = getattr(get_search_backend(), "statements", None)
        if statements is None:
            raise CommandError("This search backend does not show its statements.")
        with override_settings(SEARCH_CACHE_SECONDS=0), statements() as seen:
            page = selectors.search_samples(
                user=caller, text=understood.text, filters=understood.filters, similar_to=source
            )
            if facets:
                selectors.search_facets(
                    user=caller,
                    text=understood.text,
                    filters=understood.filters,
                    fuzzy=page.fuzzy,
                    expanded=page.expanded,
                )
        for statement in seen:
            self.stdout.write(statement.rstrip() + ";\n")
        self.stdout.write(f"-- {page.total} match(es), {len(page.hits)} on the page")
