"""Sending stored files: straight from disk, or a short-lived signed URL on S3."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseRedirect


def zip_response(samples: Iterable, *, filename: str) -> FileResponse:
    """The samples' originals as one zip download (spooled to a temporary file)."""
    from library.services.collections import write_zip

    bundle = tempfile.TemporaryFile()
    write_zip(bundle, samples)
    bundle.seek(0)
    return FileResponse(
        bundle, as_attachment=True, filename=filename, content_type="application/zip"
    )


def stored_file_response(field: FieldFile, *, filename: str, attachment: bool) -> HttpResponse:
    try:
        path = field.path
    except NotImplementedError:  # remote storage: let the bucket serve it
        disposition = "attachment" if attachment else "inline"
        url = field.storage.url(
            field.name,
            parameters={"ResponseContentDisposition": f'{disposition}; filename="{filename}"'},
        )
        return HttpResponseRedirect(url)
    return FileResponse(open(path, "rb"), as_attachment=attachment, filename=filename)
