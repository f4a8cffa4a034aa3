"""A render's file goes with its row, however the row goes (its sample deleted, evicted)."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from studio.models import Render


@receiver(post_delete, sender=Render, dispatch_uid="studio.render_file_delete")
def render_file_delete(sender, instance: Render, **kwargs) -> None:
    if instance.file.name:
        # After commit: a rolled-back deletion keeps its file.
        transaction.on_commit(partial(instance.file.storage.delete, instance.file.name))
