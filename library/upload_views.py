"""The upload page: one drop zone, one batch job per page upload, and its summary.

The page's script asks for a job (``upload_batch_create``), then sends each file on
its own with its path in the dropped folder (``upload_batch_file``), showing a
progress bar per file; the job's page (``upload_batch_detail``) sums it up and
stays reachable. Without the script the form posts every file at once into one job.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from library import selectors
from library.models import BatchKind
from library.services.batches import batch_job_refresh
from library.services.page_uploads import (
    upload_batch_add,
    upload_batch_not_sent,
    upload_batch_start,
    upload_summary,
)
from library.services.uploads import spooled_uploads
from library.waveforms import attach_waveforms
from samplemind.errors import ProductError

RECENT_UPLOADS = 5


def _recent_jobs(request: HttpRequest):
    jobs = selectors.batch_jobs_owned(user=request.user).filter(kind=BatchKind.UPLOAD)
    return jobs.order_by("-created_at")[:RECENT_UPLOADS]


def _store(request: HttpRequest, job, upload_file, path: str | None) -> dict:
    """One sent file into ``job``; its rows for the upload list."""
    entry = {"name": path or upload_file.name, "samples": [], "errors": [], "copies": []}
    try:
        with spooled_uploads([upload_file]) as spooled:
            outcome = upload_batch_add(
                job=job,
                spooled=spooled[0],
                path=path or upload_file.name,
                folder_collections=request.POST.get("collections") == "1",
                keep_duplicate=request.POST.get("keep_duplicate") == "1",
            )
    except ProductError as exc:  # too large to spool: nothing reached the job
        entry["errors"].append(exc.message)
        job.errors = [*job.errors, {"file": entry["name"], "error": exc.message, "code": exc.code}]
        job.save(update_fields=["errors"])
        return entry
    entry["samples"] = outcome.samples
    entry["errors"] = [
        f"{e['file']}: {e['error']}"
        for e in outcome.errors
        if e.get("code") not in ("skipped", "near_duplicate")
    ]
    # Near-duplicates get a "Keep anyway" button: the page sends the file again to keep it.
    entry["copies"] = [e for e in outcome.errors if e.get("code") == "near_duplicate"]
    return entry


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """The drop zone; a plain form post (no script) stores every file as one job."""
    if request.method == "POST":
        files = request.FILES.getlist("files")
        if not files:
            return render(
                request,
                "library/upload.html",
                {"errors": ["Choose at least one audio file."], "jobs": _recent_jobs(request)},
                status=400,
            )
        job = upload_batch_start(owner=request.user, total=len(files))
        paths = request.POST.getlist("path")
        for index, upload_file in enumerate(files):
            path = paths[index] if index < len(paths) else None
            _store(request, job, upload_file, path)
        return redirect("library:upload-batch", pk=job.pk)
    return render(request, "library/upload.html", {"jobs": _recent_jobs(request)})


@login_required
@require_POST
def upload_batch_create(request: HttpRequest) -> JsonResponse:
    """Start a page upload of ``total`` files; answers where to send them and the summary."""
    try:
        total = int(request.POST.get("total", ""))
    except ValueError:
        return JsonResponse({"error": "Say how many files (total) this upload has."}, status=400)
    if total < 1:
        return JsonResponse({"error": "An upload needs at least one file."}, status=400)
    job = upload_batch_start(owner=request.user, total=total)
    return JsonResponse(
        {
            "id": str(job.pk),
            "files_url": reverse("library:upload-batch-file", args=[job.pk]),
            "summary_url": reverse("library:upload-batch", args=[job.pk]),
        },
        status=201,
    )


@login_required
@require_POST
def upload_batch_file(request: HttpRequest, pk) -> HttpResponse:
    """One file of a page upload (field ``files``, its folder path in ``path``): its rows."""
    job = get_object_or_404(selectors.batch_jobs_owned(user=request.user), pk=pk)
    files = request.FILES.getlist("files")
    if not files and request.POST.get("not_sent"):
        # A file the server never stored (refused as too large before this view, or the
        # connection dropped): the page reports it, so the job can finish and say why.
        upload_batch_not_sent(
            job=job,
            path=request.POST.get("path", "")[:500],
            reason=request.POST["not_sent"][:300],
        )
        return HttpResponse(status=204)
    if len(files) != 1:
        return HttpResponse("Send one file per request.", status=400)
    entry = _store(request, job, files[0], request.POST.get("path"))
    return render(request, "library/_upload_rows.html", {"entries": [entry]})


@login_required
def upload_batch_detail(request: HttpRequest, pk) -> HttpResponse:
    """A page upload's summary: ready, still analysing, duplicates, refused with reasons."""
    job = get_object_or_404(
        selectors.batch_jobs_owned(user=request.user).filter(kind=BatchKind.UPLOAD), pk=pk
    )
    if job.finished_at is None:
        job = batch_job_refresh(job=job)
    context = {
        "job": job,
        "on_page": not request.GET.get("fragment") or bool(request.GET.get("on_page")),
        **upload_summary(job),
    }
    attach_waveforms(context["samples"])
    if request.GET.get("fragment"):
        return render(request, "library/_upload_summary.html", context)
    return render(request, "library/upload_batch.html", context)
