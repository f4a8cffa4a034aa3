from django.apps import AppConfig
from django.db import connection
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        post_migrate.connect(_set_up_index, sender=self)


def _set_up_index(*, plan=None, **kwargs) -> None:
    """After ``migrate``, the backend makes what its index needs beyond the tables.

    What follows Python constants (functions, triggers, per-category indexes) is
    made by the backend, not copied into migrations; skipped while search's
    tables are not there (``migrate search zero``).
    """
    if "search_sampledocument" not in connection.introspection.table_names():
        return
    from search.backends import get_search_backend

    get_search_backend().setup()
