from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = "Sample library"

    def ready(self) -> None:
        from library import signals  # noqa: F401 - connects the receivers
