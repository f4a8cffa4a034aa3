"""Fingerprint samples stored before near-duplicate checks existed.

    python manage.py fingerprint_samples [--owner EMAIL] [--limit N]

Oldest first, so each is linked to an earlier copy it sounds like (shown on the
duplicates page). Safe to run again: samples with a fingerprint are skipped.
A scheduled task (organise.backfill_fingerprints) does the same every hour.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from organise import selectors
from organise.services.duplicates import fingerprints_backfill


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument("--owner", help="email of one account (default: every account)")
        parser.add_argument("--limit", type=int, help="fingerprint at most this many samples")

    def handle(self, *args, owner: str | None, limit: int | None, **options) -> None:
        user = None
        if owner:
            user = User.objects.filter(email__iexact=owner).first()
            if user is None:
                raise CommandError(f"no account with the email {owner}")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        done = fingerprints_backfill(owner=user, limit=limit)
        left = selectors.samples_without_fingerprint(owner=user).count()
        self.stdout.write(f"Fingerprinted {done} samples; {left} still without a fingerprint.")
