from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        # Web processes and workers alike retire cached search answers when a
        # sample or collection changes.
        from search.cache import connect_signals

        connect_signals()
