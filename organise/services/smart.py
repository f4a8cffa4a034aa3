"""Saving and deleting smart collections."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from library.services.text import clean_name
from organise.models import SmartCollection
from samplemind.errors import ProductError


class NameTaken(ProductError):
    status = 409
    code = "duplicate"


def smart_collection_create(*, owner: User, name: str, query: dict) -> SmartCollection:
    """Save ``query`` (already validated by ``organise.smart.saved_query``) under ``name``."""
    name = clean_name(name, fallback="Saved search")[:120]
    try:
        with transaction.atomic():
            return SmartCollection.objects.create(owner=owner, name=name, query=query)
    except IntegrityError:
        raise NameTaken(f"You already have a smart collection called “{name}”.") from None


def smart_collection_delete(*, collection: SmartCollection) -> None:
    collection.delete()
