from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio: matched renders, kits and slices"

    def ready(self) -> None:
        from studio import signals  # noqa: F401 - connects the receivers
