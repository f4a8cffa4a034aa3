"""Organising pages: the duplicates page and its "keep one" actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.rbac import has_permission
from library import selectors as library_selectors
from library.waveforms import attach_waveforms
from organise import selectors
from organise.services.duplicates import duplicates_dismiss, duplicates_keep_one
from organise.services.ratings import sample_rate
from organise.services.tags import tag_suggestion_accept, tag_suggestion_reject
from samplemind.errors import NotAllowed

MAX_GROUPS = 200


@login_required
def duplicates(request: HttpRequest) -> HttpResponse:
    """Groups of near-identical sounds in the person's library, each with "keep this one"."""
    groups = selectors.duplicate_groups(owner=request.user)
    shown = groups[:MAX_GROUPS]
    attach_waveforms([sample for group in shown for sample in group])
    return render(
        request,
        "organise/duplicates.html",
        {
            "groups": shown,
            "group_count": len(groups),
            "can_delete": has_permission(request.user, "audio:delete"),
        },
    )


@login_required
@require_POST
def duplicates_keep(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, "audio:delete"):
        raise NotAllowed("Your plan does not include deleting samples (audio:delete).")
    keep = get_object_or_404(
        library_selectors.samples_owned(user=request.user), pk=request.POST.get("sample")
    )
    deleted = duplicates_keep_one(owner=request.user, keep=keep)
    messages.success(
        request, f"Kept “{keep.name}”; {deleted} cop{'y' if deleted == 1 else 'ies'} deleted."
    )
    return redirect("organise:duplicates")


@login_required
@require_POST
def duplicates_dismiss_view(request: HttpRequest) -> HttpResponse:
    sample = get_object_or_404(
        library_selectors.samples_owned(user=request.user), pk=request.POST.get("sample")
    )
    duplicates_dismiss(owner=request.user, sample=sample)
    messages.success(request, f"“{sample.name}” and its group are kept as different sounds.")
    return redirect("organise:duplicates")


@login_required
@require_POST
def sample_rate_view(request: HttpRequest, pk) -> HttpResponse:
    """A click on the sample page's heart or stars (clicking the current stars clears them)."""
    sample = get_object_or_404(library_selectors.samples_visible(user=request.user), pk=pk)
    changes: dict = {}
    if "favourite" in request.POST:
        changes["favourite"] = request.POST["favourite"] == "true"
    if "rating" in request.POST:
        value = request.POST["rating"].strip()
        if value not in ("", "1", "2", "3", "4", "5"):
            return HttpResponseBadRequest("Stars are 1 to 5.")
        changes["rating"] = int(value) if value else None
    sample_rate(user=request.user, sample=sample, **changes)
    return redirect("library:sample", pk=sample.pk)


@login_required
@require_POST
def tag_answer(request: HttpRequest, pk) -> HttpResponse:
    """Accept or reject one suggested tag from the sample page (owner only)."""
    sample = get_object_or_404(library_selectors.samples_owned(user=request.user), pk=pk)
    tag, answer = request.POST.get("tag", ""), request.POST.get("answer")
    if answer not in ("accept", "reject"):
        return HttpResponseBadRequest("Answer accept or reject.")
    try:
        if answer == "accept":
            tag_suggestion_accept(actor=request.user, sample=sample, tag=tag)
            messages.success(request, f"Tagged “{tag}”.")
        else:
            tag_suggestion_reject(actor=request.user, sample=sample, tag=tag)
    except ValueError:
        return HttpResponseBadRequest("Not a tag.")
    return redirect("library:sample", pk=sample.pk)


@login_required
def smart_collections(request: HttpRequest) -> HttpResponse:
    """The person's saved searches with their counts now (one query for every count)."""
    from organise import smart
    from organise.models import SmartCollection

    owned = list(SmartCollection.objects.filter(owner=request.user))
    found = smart.counts(owner=request.user, collections=owned)
    rows = [(c, found[c.pk], QueryDict(mutable=True)) for c in owned]
    for collection, _count, query in rows:
        query.update(collection.query)
    return render(request, "organise/smart_list.html", {"rows": rows})


@login_required
@require_POST
def smart_collection_save(request: HttpRequest) -> HttpResponse:
    """Save the library page's current words, filters and sort under a name."""
    from rest_framework.exceptions import ValidationError

    from organise import smart
    from organise.services.smart import smart_collection_create

    try:
        query = smart.saved_query(request.POST)
    except ValidationError:
        messages.error(request, "That search has a filter that is not valid; fix it first.")
        return redirect("library:list")
    collection = smart_collection_create(
        owner=request.user, name=request.POST.get("name", ""), query=query
    )
    messages.success(
        request, f"Saved “{collection.name}”: it updates itself as samples come and go."
    )
    return redirect("organise:smart")


@login_required
@require_POST
def smart_collection_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    from organise.models import SmartCollection

    collection = get_object_or_404(SmartCollection, owner=request.user, pk=pk)
    collection.delete()
    messages.success(request, f"Forgot “{collection.name}”; its samples stay in your library.")
    return redirect("organise:smart")


@login_required
def sound_map(request: HttpRequest) -> HttpResponse:
    """The map page; its points come from /api/v1/map (the person's own samples).

    The person's own collections are offered for the sounds a lasso selects.
    """
    collections = []
    if has_permission(request.user, "collection:edit"):
        collections = list(
            library_selectors.collections_owned(user=request.user)
            .order_by("name")
            .values("pk", "name")
        )
    return render(request, "organise/map.html", {"collections": collections})


@login_required
def bulk_tags(request: HttpRequest) -> HttpResponse:
    """Tags many untagged samples seem to deserve, a group per tag, answered in one click."""
    groups = selectors.bulk_tag_suggestions(owner=request.user)
    return render(request, "organise/bulk_tags.html", {"groups": groups})


@login_required
@require_POST
def bulk_tags_answer(request: HttpRequest) -> HttpResponse:
    from organise.services.tags import tag_suggestions_answer_all

    tag, answer = request.POST.get("tag", ""), request.POST.get("answer")
    if answer not in ("accept", "reject"):
        return HttpResponseBadRequest("Answer accept or reject.")
    ids = request.POST.getlist("sample")
    try:
        samples = list(library_selectors.samples_owned(user=request.user).filter(pk__in=ids))
        count = tag_suggestions_answer_all(
            actor=request.user, samples=samples, tag=tag, accept=answer == "accept"
        )
    except (ValueError, DjangoValidationError):
        return HttpResponseBadRequest("Not a tag or not a sample.")
    verb = "Tagged" if answer == "accept" else "Will not suggest"
    messages.success(request, f"{verb} “{tag}” for {count} sample{'s' if count != 1 else ''}.")
    return redirect("organise:tags")
