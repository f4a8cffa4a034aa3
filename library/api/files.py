"""Sending stored files: from disk (or by the proxy in front), or a short-lived signed URL on S3.

These are the only ways media leave the server; no URL serves the media folder.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
from collections.abc import Iterable
from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

from samplemind.errors import FileMissing


def zip_response(samples: Iterable, *, filename: str) -> FileResponse:
    """The samples' originals as one zip download (spooled to a temporary file).

    Samples whose file is gone are left out and named in ``MISSING.txt`` inside
    the zip; when none is left, ``FileMissing``.
    """
    from library.services.collections import write_zip

    present, missing = [], []
    for sample in samples:
        stored = sample.file.storage.exists(sample.file.name)
        (present if stored else missing).append(sample)
    if missing and not present:
        raise FileMissing("None of these samples' files is stored any more.")
    bundle = tempfile.TemporaryFile()
    write_zip(bundle, present, missing=missing)
    bundle.seek(0)
    return FileResponse(
        bundle, as_attachment=True, filename=filename, content_type="application/zip"
    )


def stored_file_response(field: FieldFile, *, filename: str, attachment: bool) -> HttpResponse:
    """The stored file, or ``FileMissing`` (404) when its row outlived it."""
    try:
        path = field.path
    except NotImplementedError:  # remote storage: let the bucket serve it (its own 404)
        disposition = "attachment" if attachment else "inline"
        url = field.storage.url(
            field.name,
            parameters={"ResponseContentDisposition": f'{disposition}; filename="{filename}"'},
        )
        return HttpResponseRedirect(url)
    if not os.path.isfile(path):
        raise FileMissing(f"The file of {filename!r} is no longer stored.")
    if settings.SAMPLEMIND_SENDFILE:
        return _sendfile_response(field.name, path, filename=filename, attachment=attachment)
    return FileResponse(open(path, "rb"), as_attachment=attachment, filename=filename)


def _sendfile_response(name: str, path: str, *, filename: str, attachment: bool) -> HttpResponse:
    """An empty answer whose header tells the proxy in front which file to send."""
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    response = HttpResponse(content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(attachment, filename)
    if settings.SAMPLEMIND_SENDFILE == "x-sendfile":
        response["X-Sendfile"] = path
    else:  # nginx maps the internal location to MEDIA_ROOT
        response["X-Accel-Redirect"] = settings.SAMPLEMIND_SENDFILE_URL + quote(name)
    return response
