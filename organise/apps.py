from django.apps import AppConfig


class OrganiseConfig(AppConfig):
    name = "organise"
    verbose_name = "Organising by sound"

    def ready(self) -> None:
        from library import selectors as library_selectors
        from organise.filters import declare
        from organise.selectors import rating_annotations
        from search.filters import registry

        declare(registry)
        # The reader's marks ride along with the library's sample queries (list, detail).
        if rating_annotations not in library_selectors.SAMPLE_ANNOTATIONS:
            library_selectors.SAMPLE_ANNOTATIONS.append(rating_annotations)
