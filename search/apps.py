import logging
import pkgutil

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.signals import post_migrate

logger = logging.getLogger(__name__)


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        post_migrate.connect(_set_up_index, sender=self)


def _set_up_index(*, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """After ``migrate``, the backend makes what its index needs beyond the tables.

    What follows Python constants (functions, triggers, per-category indexes) is
    made by the backend, not copied into migrations, for the tables of the
    latest migration: skipped while search is migrated to an earlier one
    (``migrate search zero``, or back to a state those objects do not fit).
    """
    if using != DEFAULT_DB_ALIAS:  # the backend searches the default database only
        return
    if not _fully_migrated():
        logger.info("search is not fully migrated: its index objects are left for later")
        return
    from search.backends import get_search_backend

    get_search_backend().setup()


def _fully_migrated() -> bool:
    """Whether search's latest migration is applied (one query; names sort by number)."""
    from search import migrations

    latest = max(module.name for module in pkgutil.iter_modules(migrations.__path__))
    applied = MigrationRecorder(connection).applied_migrations()
    return ("search", latest) in applied
