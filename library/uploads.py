"""Refusing oversized uploads while the request body streams in, not after it is spooled.

``UploadLimitHandler`` runs first among Django's upload handlers. It refuses
a request whose declared length passes what the sender may upload in one
request (before a byte of the body is read), and stops reading as soon as one
file passes ``SAMPLEMIND_MAX_UPLOAD_BYTES`` or the body passes the request
limit (for a request that does not declare its length or lies about it).
Either way it raises :class:`~library.errors.FileTooLarge` (413): the API's
exception handler gives it the shared error shape, and
``UploadLimitMiddleware`` answers it for pages, whose body Django's CSRF check
reads before the view runs.
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse

from library import selectors
from library.errors import FileTooLarge
from samplemind.text import human_bytes

# URL names of endpoints that take exactly one file.
SINGLE_FILE_VIEWS = frozenset({"audio-upload"})


def _single_file(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and match.url_name in SINGLE_FILE_VIEWS)


class UploadLimitHandler(FileUploadHandler):
    """Counts the body as it streams; raises ``FileTooLarge`` past the sender's limits."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit: int | None = None
        self.received = 0

    def _request_limit(self) -> int:
        if self.limit is None:
            user = getattr(self.request, "user", None)
            self.limit = selectors.upload_request_limit(
                user=user, single_file=_single_file(self.request)
            )
        return self.limit

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        limit = self._request_limit()
        if content_length and content_length > limit:
            raise FileTooLarge(
                f"This upload is {human_bytes(content_length)}; the limit is "
                f"{human_bytes(limit)} per request. Nothing was stored.",
                details={"limit": limit, "size": content_length},
            )
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        from django.conf import settings

        self.received += len(raw_data)
        file_limit = settings.SAMPLEMIND_MAX_UPLOAD_BYTES
        if start + len(raw_data) > file_limit:
            self._discard_partial_files()
            raise FileTooLarge(
                f"{self.file_name} is larger than the {human_bytes(file_limit)} limit "
                "for one file. Nothing was stored.",
                details={"limit": file_limit, "file": self.file_name},
            )
        if self.received > self._request_limit():
            self._discard_partial_files()
            raise FileTooLarge(
                f"This upload is larger than the {human_bytes(self._request_limit())} limit "
                "per request. Nothing was stored.",
                details={"limit": self._request_limit()},
            )
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def _discard_partial_files(self) -> None:
        # Django closes the files it finished, not the one being written when a
        # handler raises: close (and so delete) that temporary file now.
        for handler in self.request.upload_handlers:
            partial = getattr(handler, "file", None)
            if handler is not self and partial is not None:
                partial.close()


class UploadLimitMiddleware:
    """Answers 413 for pages whose upload ``UploadLimitHandler`` refused.

    Django's CSRF check reads a page's POST body before the view runs, so a
    refusal raised while parsing would otherwise surface as a server error.
    API views are left alone: DRF parses after authenticating, and its
    exception handler answers with the API's error shape.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view, args, kwargs) -> HttpResponse | None:
        if request.method != "POST" or not request.content_type.startswith("multipart/"):
            return None
        if getattr(view, "cls", None) is not None:  # a DRF view
            return None
        try:
            request.FILES  # noqa: B018 - parse now, so a refusal gets its 413
        except FileTooLarge as exc:
            return HttpResponse(exc.message, status=413, content_type="text/plain; charset=utf-8")
        return None
