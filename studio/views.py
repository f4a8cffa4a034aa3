"""Studio pages: the kit list and builder, and the file a drag to the DAW drops."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.rbac import has_permission
from library import selectors as library_selectors
from library.api.files import stored_file_response
from samplemind.errors import ProductError
from studio import selectors
from studio.forms import KitForm, ProjectForm
from studio.models import PADS, Render, RenderStatus
from studio.services import kits as kit_services
from studio.services.project import project_update
from studio.services.renders import render_request

# Keys that play pads 1..16, four rows as on a pad controller.
PAD_KEYS = "1234qwerasdfzxcv"
# How long a drag's download waits for its matched render before answering 503.
DRAG_WAIT_SECONDS = 20


@login_required
def kit_list(request: HttpRequest) -> HttpResponse:
    form = KitForm(request.POST if "name" in request.POST else None)
    project = selectors.project_settings(user=request.user)
    key_text = f"{project.key} {project.mode or 'major'}" if project.key else ""
    initial = {"bpm": project.bpm, "key": key_text, "matching": project.matching}
    project_form = ProjectForm(
        request.POST if "bpm" in request.POST else None,
        initial={**initial, "pitch_drums": project.pitch_drums},
    )
    if project_form.is_bound and project_form.is_valid():
        key, mode = project_form.cleaned_data["key"]
        project_update(
            user=request.user,
            bpm=project_form.cleaned_data["bpm"],
            key=key,
            mode=mode,
            matching=project_form.cleaned_data["matching"],
            pitch_drums=project_form.cleaned_data["pitch_drums"],
        )
        messages.success(request, "Project tempo and key saved.")
        return redirect("studio:kits")
    if form.is_bound and form.is_valid():
        try:
            kit = kit_services.kit_create(owner=request.user, **form.cleaned_data)
        except ProductError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("studio:kit", pk=kit.pk)
    kits = selectors.kits_with_counts(user=request.user, scope="owned")
    context = {"kits": kits, "form": form, "project_form": project_form, "project": project}
    return render(request, "studio/kits.html", context)


@login_required
def kit_builder(request: HttpRequest, pk: int) -> HttpResponse:
    kit = get_object_or_404(
        selectors.kits_visible(user=request.user).select_related("owner"), pk=pk
    )
    by_pad = {pad.pad: pad for pad in selectors.kit_pads(kit=kit, user=request.user)}
    pads = [
        {"number": n + 1, "key": PAD_KEYS[n], "note": 36 + n, "pad": by_pad.get(n)}
        for n in range(PADS)
    ]
    library = (
        library_selectors.sample_list(user=request.user)
        .filter(status="ready")
        .exclude(is_loop=True)
        .order_by("category", "name")[:200]
    )
    context = {
        "kit": kit,
        "pads": pads,
        "library": library,
        "editable": kit.owner_id == request.user.pk,
    }
    return render(request, "studio/kit_builder.html", context)


@login_required
def sample_file(request: HttpRequest, pk) -> HttpResponse:
    """What a row dragged to the DAW drops: the matched render when matching is on.

    Also the sample page's "download at 124 BPM in F minor" (``?match=1&format=``).

    Matching on (the project's tempo or key set): the render, waited for up to
    ``DRAG_WAIT_SECONDS`` (short sounds take a second or two); otherwise, or for
    a sound the project does not change, the original.
    """
    if not has_permission(request.user, "audio:download"):
        raise PermissionDenied("Your plan does not include audio:download.")
    sample = get_object_or_404(library_selectors.samples_visible(user=request.user), pk=pk)
    project = selectors.project_settings(user=request.user)
    # ?match=1 (the sample page's "download at ..." links) matches with matching off too.
    matching = project.matching or request.GET.get("match") == "1"
    fmt = "flac" if request.GET.get("format") == "flac" else "wav"
    if matching and (project.bpm or project.key) and sample.status == "ready":
        try:
            render = render_request(
                user=request.user,
                sample=sample,
                bpm=project.bpm,
                key=project.key,
                mode=project.mode,
                fmt=fmt,
                pitch_drums=project.pitch_drums,
            )
        except ProductError as exc:  # quota, too many renders waiting, a failed render
            return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
        deadline = time.monotonic() + DRAG_WAIT_SECONDS
        while render.status != RenderStatus.READY and time.monotonic() < deadline:
            if render.status == RenderStatus.FAILED:
                break
            time.sleep(0.25)
            render = Render.objects.select_related("sample").get(pk=render.pk)
        if render.status == RenderStatus.READY:
            return stored_file_response(
                render.file, filename=selectors.render_filename(render), attachment=True
            )
        response = HttpResponse("The matched render is not ready yet.", status=503)
        response["Retry-After"] = "2"
        return response
    return stored_file_response(sample.file, filename=sample.original_filename, attachment=True)
