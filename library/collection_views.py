"""Collection pages: list and create, a collection's page (play, reorder, remove), rename,
share, delete, and the public-link warning with its one-click "make these public".
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.rbac import has_permission
from library import selectors
from library.forms import AddToCollectionForm, CollectionForm
from library.models import Collection, Visibility
from library.services import collections as collection_services
from library.services.samples import sample_update
from library.views import _visible_or_404
from library.waveforms import attach_waveforms
from samplemind.errors import ProductError
from samplemind.text import editable_html


@login_required
def collection_list(request: HttpRequest) -> HttpResponse:
    form = CollectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            collection = collection_services.collection_create(
                owner=request.user, **form.cleaned_data
            )
        except ProductError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Created “{collection.name}”.")
            return redirect("library:collection", pk=collection.pk)
    collections = selectors.collections_with_counts(user=request.user, scope="owned")
    return render(
        request,
        "collections/list.html",
        {"collections": collections.order_by("name"), "form": form},
    )


def collection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    collection = get_object_or_404(
        selectors.collections_visible(user=request.user).select_related("owner"), pk=pk
    )
    items = list(selectors.collection_items(collection=collection, user=request.user))
    attach_waveforms(item.sample for item in items)
    is_owner = request.user.is_authenticated and collection.owner_id == request.user.pk
    # What a visitor of the public link would miss: the owner's samples that are still private.
    hidden = [
        item.sample
        for item in items
        if is_owner
        and collection.visibility == Visibility.PUBLIC
        and item.sample.visibility != Visibility.PUBLIC
    ]
    edit_form = None
    if is_owner:
        edit_form = CollectionForm(
            initial={
                "name": collection.name,
                "description": editable_html(collection.description),
                "visibility": collection.visibility,
            }
        )
    return render(
        request,
        "collections/detail.html",
        {
            "collection": collection,
            "items": items,
            "is_owner": is_owner,
            "hidden": hidden,
            "edit_form": edit_form,
            "can_share": has_permission(request.user, "audio:share"),
            "can_download": has_permission(request.user, "audio:download"),
            "public_url": request.build_absolute_uri(
                reverse("library:collection", args=[collection.pk])
            ),
        },
    )


def _owned_collection_or_404(request: HttpRequest, pk: int) -> Collection:
    return get_object_or_404(selectors.collections_owned(user=request.user), pk=pk)


@login_required
@require_POST
def collection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename the collection, change its description or who may see it."""
    collection = _owned_collection_or_404(request, pk)
    form = CollectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("library:collection", pk=collection.pk)
    try:
        collection_services.collection_update(
            collection=collection, actor=request.user, **form.cleaned_data
        )
    except ProductError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Collection saved.")
    return redirect("library:collection", pk=collection.pk)


@login_required
@require_POST
def collection_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete the collection; its samples stay in the library."""
    collection = _owned_collection_or_404(request, pk)
    name = collection.name
    collection_services.collection_delete(
        collection=collection, actor=request.user, request=request
    )
    messages.success(request, f"Deleted “{name}”. Its samples are still in your library.")
    return redirect("library:collections")


@login_required
@require_POST
def collection_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Take one sample out of the collection (the sample itself stays)."""
    collection = _owned_collection_or_404(request, pk)
    removed = collection_services.collection_remove_samples(
        collection=collection, actor=request.user, sample_ids=request.POST.getlist("sample")
    )
    if removed:
        messages.success(request, "Removed from the collection.")
    else:
        messages.error(request, "That sample is not in this collection.")
    return redirect("library:collection", pk=collection.pk)


@login_required
@require_POST
def collection_publish_samples(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the owner's private samples in a public collection public, so its link shows them."""
    collection = _owned_collection_or_404(request, pk)
    private = selectors.samples_owned(user=request.user).filter(
        pk__in=collection.items.values("sample_id"), visibility=Visibility.PRIVATE
    )
    count = 0
    try:
        for sample in private:
            sample_update(sample=sample, actor=request.user, visibility=Visibility.PUBLIC)
            count += 1
    except ProductError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Made {count} sample{'s' if count != 1 else ''} public.")
    return redirect("library:collection", pk=collection.pk)


@login_required
@require_POST
def collection_add(request: HttpRequest, pk) -> HttpResponse:
    sample = _visible_or_404(request, pk)
    owned = list(selectors.collections_owned(user=request.user))
    form = AddToCollectionForm(request.POST, collections=owned)
    if not form.is_valid():
        messages.error(request, "Choose one of your collections.")
        return redirect("library:sample", pk=sample.pk)
    collection = next(c for c in owned if c.pk == form.cleaned_data["collection"])
    try:
        collection_services.collection_add_samples(
            collection=collection, actor=request.user, sample_ids=[str(sample.pk)]
        )
    except ProductError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Added to “{collection.name}”.")
    return redirect("library:sample", pk=sample.pk)


@login_required
@require_POST
def collection_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    collection = get_object_or_404(Collection, pk=pk, owner=request.user)
    try:
        collection_services.collection_reorder(
            collection=collection, actor=request.user, sample_ids=request.POST.getlist("sample")
        )
    except ProductError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return HttpResponse(status=204)
