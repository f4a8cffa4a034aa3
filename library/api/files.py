"""Sending stored files: straight from disk, or a short-lived signed URL on S3."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseRedirect


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
