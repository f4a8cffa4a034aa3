from django.apps import AppConfig


class OrganiseConfig(AppConfig):
    name = "organise"
    verbose_name = "Organising by sound"

    def ready(self) -> None:
        from library import selectors as library_selectors
        from library.services import analysis, imports
        from organise.filters import declare
        from organise.selectors import rating_annotations
        from organise.services.duplicates import (
            import_copy_check,
            import_copy_checks_prepare,
            near_duplicate_records,
        )
        from organise.soundmap import layout_queue
        from search.filters import registry

        declare(registry)
        # The reader's marks ride along with the library's sample queries (list, detail).
        if rating_annotations not in library_selectors.SAMPLE_ANNOTATIONS:
            library_selectors.SAMPLE_ANNOTATIONS.append(rating_annotations)
        # Imports check for near-duplicates through organise (the library does not import it).
        imports.COPY_CHECKS = imports.CopyChecks(
            prepare=import_copy_checks_prepare,
            check=import_copy_check,
            record=near_duplicate_records,
        )
        # A finished analysis queues the owner's sound map to be drawn again.
        if layout_queue not in analysis.ANALYSED_HOOKS:
            analysis.ANALYSED_HOOKS.append(layout_queue)
