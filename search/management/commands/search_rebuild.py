"""Rebuild the search index from the samples (after a restore, or to be sure)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from search.backends import get_search_backend
from search.services import search_index_rebuild, search_index_sweep, search_terms_prune


class Command(BaseCommand):
    help = "Rewrite every sample's search entry (or, with --stale, only those that drifted)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--stale", action="store_true", help="Only entries missing or out of date."
        )

    def handle(self, *args, stale: bool, **options) -> None:
        # The functions, triggers and per-category indexes first, even if thought current.
        get_search_backend().setup(force=True)
        if stale:
            self.stdout.write(f"{search_index_sweep()} stale search entries rewritten")
            return
        count = search_index_rebuild()
        pruned = search_terms_prune()
        self.stdout.write(f"{count} samples indexed; {pruned} unused words dropped")
