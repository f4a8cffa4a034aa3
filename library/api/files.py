"""Sending stored files: from disk (or by the proxy in front), or a short-lived signed URL on S3.

These are the only ways media leave the server; no URL serves the media folder.
"""

from __future__ import annotations

import mimetypes
import os
import re
import tempfile
from collections.abc import Iterable
from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header

from library.errors import FileMissing


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


def stored_file_response(
    field: FieldFile, *, filename: str, attachment: bool, request: HttpRequest | None = None
) -> HttpResponse:
    """The stored file, or ``FileMissing`` (404) when its row outlived it.

    With ``request``, a ``Range: bytes=...`` header is answered with 206 and just
    those bytes (players seek and read a long file's end without loading all of
    it); Django's ``FileResponse`` alone always sends the whole file.
    """
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
    response = _ranged_response(request, path, filename=filename, attachment=attachment)
    if response is None:
        response = FileResponse(open(path, "rb"), as_attachment=attachment, filename=filename)
    response["Accept-Ranges"] = "bytes"
    return response


# One range only ("bytes=0-", "bytes=100-199", "bytes=-500"): what audio players ask for.
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _ranged_response(
    request: HttpRequest | None, path: str, *, filename: str, attachment: bool
) -> HttpResponse | None:
    """A 206 (or 416) answer to the request's single byte range; None to send the whole file."""
    header = request.headers.get("Range", "").replace(" ", "") if request else ""
    match = _RANGE.match(header)
    if not match or match.groups() == ("", ""):
        return None  # no range, several ranges or another unit: the whole file (RFC 9110)
    size = os.path.getsize(path)
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:  # a suffix: the last N bytes
        start, end = max(size - int(last), 0), size - 1
    if start >= size or start > end:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    handle = open(path, "rb")  # noqa: SIM115 - closed by _limited when the answer is sent
    handle.seek(start)
    response = StreamingHttpResponse(
        _limited(handle, end - start + 1),
        status=206,
        content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
    )
    response["Content-Disposition"] = content_disposition_header(attachment, filename)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    return response


def _limited(handle, length: int, chunk: int = 64 * 1024):
    """Read ``length`` bytes from ``handle`` in chunks, then close it."""
    try:
        while length > 0:
            data = handle.read(min(chunk, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        handle.close()


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
