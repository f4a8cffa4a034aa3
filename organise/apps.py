from django.apps import AppConfig


class OrganiseConfig(AppConfig):
    name = "organise"
    verbose_name = "Organising by sound"

    def ready(self) -> None:
        from library import selectors as library_selectors
        from library.services import imports
        from organise.filters import declare
        from organise.selectors import rating_annotations
        from organise.services.duplicates import import_copy_check, near_duplicate_records
        from search.filters import registry

        declare(registry)
        # The reader's marks ride along with the library's sample queries (list, detail).
        if rating_annotations not in library_selectors.SAMPLE_ANNOTATIONS:
            library_selectors.SAMPLE_ANNOTATIONS.append(rating_annotations)
        # Imports check for near-duplicates through organise (the library does not import it).
        imports.COPY_CHECKS = imports.CopyChecks(
            check=import_copy_check, record=near_duplicate_records
        )
