from django.apps import AppConfig


class OrganiseConfig(AppConfig):
    name = "organise"
    verbose_name = "Organising by sound"

    def ready(self) -> None:
        from organise.filters import declare
        from search.filters import registry

        declare(registry)
