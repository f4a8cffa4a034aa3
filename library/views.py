"""Pages for producers: the library, a sample, uploading, and collections.

Views parse the request, call services and selectors, and render; product
errors are shown with their message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.rbac import has_permission
from library import selectors
from library.api.files import stored_file_response, zip_response
from library.api.filters import samples_filtered
from library.forms import (
    SORTS,
    VIEWS,
    AddToCollectionForm,
    LibraryFilterForm,
    SampleCorrectionForm,
    SampleEditForm,
)
from library.models import (
    CATEGORY_CHOICES,
    SampleStatus,
)
from library.services.bulk import samples_bulk_act
from library.services.corrections import sample_correct
from library.services.previews import sample_preview_ensure
from library.services.samples import sample_update
from library.templatetags.listening import category_label
from library.waveforms import attach_waveforms
from samplemind.errors import NotAllowed, ProductError
from samplemind.text import editable_html
from search.filters import registry
from search.filters.panel import filter_panel

# Dense rows: a page is a listening session, arrowed through without paging.
PAGE_SIZE = 100
LAYOUT_COOKIE = "library_layout"
# Public samples a visitor can play on the home page.
PUBLIC_ON_HOME = 30
# Peaks sent to the player for drawing (the analysis stores 800).
PLAYER_PEAKS = 400


def human_categories() -> list[tuple[str, str]]:
    """The category choices as people read them: ("drum_loop", "Drum loop")."""
    return [(value, category_label(value)) for value, _ in CATEGORY_CHOICES]


def home(request: HttpRequest) -> HttpResponse:
    """The library for signed-in people; the introduction for visitors."""
    if request.user.is_authenticated:
        return library_list(request)
    public = list(
        selectors.samples_visible(user=request.user)
        .filter(status=SampleStatus.READY)
        .defer("embedding", "descriptors")
        .order_by("-created_at")[:PUBLIC_ON_HOME]
    )
    attach_waveforms(public)
    collections = selectors.collections_with_counts(user=request.user, scope="public")
    return render(
        request,
        "home.html",
        {"samples": public, "collections": [c for c in collections[:8] if c.sample_count]},
    )


@login_required
def library_list(request: HttpRequest) -> HttpResponse:
    """The user's samples with the API's filters, a sort, and a list or grid layout.

    Every control lives in one GET form, so the filters survive sorting and
    pagination; the layout is also kept in a cookie for the next visit.
    """
    form = LibraryFilterForm(request.GET)
    form.is_valid()
    params = form.cleaned_data
    # Invalid values (e.g. bpm_min=fast) are ignored and listed, rather than emptying the page.
    parsed = registry.parse_leniently(request.GET)
    samples = samples_filtered(
        selectors.sample_list(user=request.user), parsed.filters, user=request.user
    )
    samples = selectors.samples_matching_text(samples, params.get("q") or "")
    sort = params.get("sort") or "-created_at"
    layout = params.get("view") or request.COOKIES.get(LAYOUT_COOKIE)
    layout = layout if layout in VIEWS else "list"
    page = Paginator(samples.order_by(sort, "-created_at"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    attach_waveforms(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    query["view"] = layout
    layout_query = request.GET.copy()
    layout_query.pop("view", None)
    layout_query.pop("page", None)
    response = render(
        request,
        "library/list.html",
        {
            "page": page,
            "form": form,
            # Every library sample is the user's own: "only mine" would change nothing.
            "filters_panel": filter_panel(
                request.GET,
                parsed,
                user=request.user,
                exclude=("mine",),
                form_id="library-filters",
                action=reverse("library:list"),
                hidden=[("view", layout)],
                clear_url=f"{reverse('library:list')}?view={layout}",
            ),
            "filtered": bool(parsed.raw) or bool(request.GET.get("q")),
            "sorts": SORTS,
            "sort": sort,
            "layout": layout,
            "layouts": VIEWS,
            "query": query.urlencode(),
            "layout_query": layout_query.urlencode(),
            "collections": list(selectors.collections_owned(user=request.user).order_by("name")),
            "categories": human_categories(),
        },
    )
    if params.get("view"):
        response.set_cookie(
            LAYOUT_COOKIE, layout, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response


@login_required
@require_POST
def library_bulk(request: HttpRequest) -> HttpResponse:
    """Act on the ticked samples: tag, collect, correct, delete, or download as a zip."""
    ids = request.POST.getlist("sample")
    action = request.POST.get("action")
    samples = list(selectors.samples_owned(user=request.user).filter(pk__in=ids).order_by("name"))
    back = reverse("library:list")
    # The list's own query string (filters, sort, page), so the page looks as it did.
    if request.POST.get("next"):
        back += "?" + QueryDict(request.POST["next"]).urlencode()
    try:
        if action == "zip":
            if not samples:
                raise ProductError("Tick at least one sample first.")
            if not has_permission(request.user, "audio:download"):
                raise NotAllowed("Your plan does not include downloads (audio:download).")
            return zip_response(samples, filename="samples.zip")
        collection = (
            selectors.collections_owned(user=request.user)
            .filter(pk=_int(request.POST.get("collection")))
            .first()
        )
        done = samples_bulk_act(
            actor=request.user,
            samples=samples,
            action=action or "",
            tags=request.POST.get("tags", ""),
            collection=collection,
            category=request.POST.get("category"),
            request=request,
        )
        messages.success(request, done)
    except ProductError as exc:
        messages.error(request, exc.message)
    return redirect(back)


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _visible_or_404(request: HttpRequest, pk):
    sample = selectors.samples_visible(user=request.user).select_related("owner").filter(pk=pk)
    sample = sample.first()
    if sample is None:
        raise Http404("No such sample.")
    return sample


def sample_detail(request: HttpRequest, pk) -> HttpResponse:
    sample = _visible_or_404(request, pk)
    is_owner = request.user.is_authenticated and sample.owner_id == request.user.pk
    edit_form = None
    if is_owner:
        initial = {
            "name": sample.name,
            "tags": ", ".join(sample.tags),
            "description": editable_html(sample.description),
            "visibility": sample.visibility,
        }
        edit_form = SampleEditForm(request.POST or None, initial=initial)
        if request.method == "POST" and edit_form.is_valid():
            data = edit_form.cleaned_data
            try:
                sample_update(
                    sample=sample,
                    actor=request.user,
                    name=data["name"],
                    tags=[t.strip() for t in data["tags"].split(",") if t.strip()],
                    description=data["description"],
                    visibility=data["visibility"],
                )
            except ProductError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Saved.")
                return redirect("library:sample", pk=sample.pk)
    correction_form = None
    if is_owner:
        correction_form = SampleCorrectionForm(
            initial=SampleCorrectionForm.initial_for(sample.corrections)
        )
    add_form = None
    if request.user.is_authenticated:
        owned = selectors.collections_owned(user=request.user).order_by("name")
        add_form = AddToCollectionForm(collections=list(owned))
    return render(
        request,
        "library/sample.html",
        {
            "sample": sample,
            "is_owner": is_owner,
            "edit_form": edit_form,
            "correction_form": correction_form,
            "add_form": add_form,
            "can_similar": has_permission(request.user, "search:similar"),
            "can_download": has_permission(request.user, "audio:download"),
        },
    )


@login_required
@require_POST
def sample_correction(request: HttpRequest, pk) -> HttpResponse:
    """Set the producer's category, loop, tempo, key and mode; blanks return to the analysis."""
    sample = get_object_or_404(selectors.samples_owned(user=request.user), pk=pk)
    form = SampleCorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("library:sample", pk=sample.pk)
    changes, reset = form.corrections()
    try:
        sample_correct(sample=sample, actor=request.user, changes=changes, reset=reset)
    except ProductError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Corrections saved.")
    return redirect("library:sample", pk=sample.pk)


def sample_preview(request: HttpRequest, pk) -> HttpResponse:
    """What the play buttons and the player load: the browser preview of a visible sample.

    Anyone may hear a public sample, signed in or not (a public collection's
    link is meant to be shared); private ones stay 404 for everybody but the
    owner. Until the analysis has made a preview, people whose plan includes
    downloads hear the original instead; visitors wait for the preview.
    """
    sample = sample_preview_ensure(sample=_visible_or_404(request, pk))
    if sample.preview:
        return stored_file_response(
            sample.preview, filename=f"{sample.name}.ogg", attachment=False, request=request
        )
    if has_permission(request.user, "audio:download"):
        return stored_file_response(
            sample.file, filename=sample.original_filename, attachment=False, request=request
        )
    raise Http404("The preview is not ready yet.")


def sample_peaks(request: HttpRequest, pk) -> JsonResponse:
    """The waveform the player bar draws, and the length it seeks in (the analysed one).

    The stored duration, not the browser's reading of a partly loaded file, so
    the position and the total are right from the first moment.
    """
    sample = _visible_or_404(request, pk)
    peaks = sample.waveform or []
    if len(peaks) > PLAYER_PEAKS:
        step = len(peaks) / PLAYER_PEAKS
        peaks = [
            max(peaks[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)])
            for i in range(PLAYER_PEAKS)
        ]
    response = JsonResponse(
        {"duration": sample.duration, "peaks": [round(float(p), 3) for p in peaks]}
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


def sample_similar(request: HttpRequest, pk) -> HttpResponse:
    """The similar-sounds list, loaded into the sample page by HTMX."""
    from search.selectors import similar_samples

    sample = _visible_or_404(request, pk)
    hits, error = [], None
    if not has_permission(request.user, "search:similar"):
        error = "Your plan does not include finding similar sounds (search:similar)."
    elif sample.status != SampleStatus.READY:
        error = "Similar sounds appear once the analysis is done."
    else:
        try:
            hits = similar_samples(user=request.user, sample=sample, k=10).hits
        except ProductError as exc:
            error = exc.message
        attach_waveforms(hit.sample for hit in hits)
    return render(request, "library/_similar.html", {"hits": hits, "error": error})


def sample_status(request: HttpRequest, pk) -> HttpResponse:
    """A sample's status badge; it polls itself until the analysis ends."""
    sample = _visible_or_404(request, pk)
    return render(request, "library/_status.html", {"sample": sample})
