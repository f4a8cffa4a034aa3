"""Queue samples for analysis again: all of them, only failed ones, or one account's.

python manage.py reanalyze (--all | --failed) [--owner EMAIL]
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import User
from library.models import Sample, SampleStatus
from library.services.analysis import sample_reanalyze


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", dest="every", action="store_true", help="every sample")
        which.add_argument(
            "--failed", action="store_true", help="only samples whose analysis failed"
        )
        parser.add_argument("--owner", help="only this account's samples (email)")

    def handle(self, *args, every: bool, failed: bool, owner: str | None, **options) -> None:
        samples = Sample.objects.all()
        if failed:
            samples = samples.filter(status=SampleStatus.FAILED)
        if owner:
            user = User.objects.filter(email__iexact=owner).first()
            if user is None:
                raise CommandError(f"no account with the email {owner}")
            samples = samples.filter(owner=user)
        count = 0
        for sample in tqdm(
            samples.only("pk").iterator(),
            total=samples.count(),
            desc="Queueing",
            unit="sample",
            disable=options["verbosity"] < 1,
        ):
            sample_reanalyze(sample=sample)
            count += 1
        self.stdout.write(f"Queued {count} samples for analysis.")
