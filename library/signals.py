"""Receivers for other apps' signals; each hands over to a library service."""

from __future__ import annotations

from django.dispatch import receiver

from accounts.signals import user_deleting
from library.services.samples import samples_delete_owned


@receiver(user_deleting, dispatch_uid="library_delete_samples_of_deleted_user")
def delete_samples_of_deleted_user(sender, user, **kwargs) -> None:
    samples_delete_owned(owner=user)
