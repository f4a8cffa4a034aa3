"""Queue samples for analysis again: all of them, failed or outdated ones, or one account's.

    python manage.py reanalyze (--all | --failed | --outdated | --owner EMAIL) [--owner EMAIL]

``--outdated`` takes the samples a previous analyser version read (after an
upgrade brings a new model, this brings every category and embedding up to date).
``--owner`` alone means all of that account's samples; with ``--failed``, only
its failed ones. Each owner gets a batch job of kind ``reanalyze`` whose
progress shows in the API (``/api/v1/audio/batch/{id}``) and the admin.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import User
from library.analysis import ANALYZER_VERSION
from library.models import Sample, SampleStatus
from library.services.analysis import samples_reanalyze


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", dest="every", action="store_true", help="every sample")
        parser.add_argument(
            "--failed", action="store_true", help="only samples whose analysis failed"
        )
        parser.add_argument(
            "--outdated", action="store_true", help="only samples an older analyser read"
        )
        parser.add_argument("--owner", help="only this account's samples (email)")

    def handle(
        self, *args, every: bool, failed: bool, outdated: bool, owner: str | None, **options
    ) -> None:
        if every and (failed or outdated or owner):
            raise CommandError("--all means every sample; leave out the other options")
        if not (every or failed or outdated or owner):
            raise CommandError("say which samples: --all, --failed, --outdated or --owner EMAIL")
        samples = Sample.objects.all()
        if failed:
            samples = samples.filter(status=SampleStatus.FAILED)
        if outdated:
            samples = samples.filter(status=SampleStatus.READY).exclude(
                analyzer_version=ANALYZER_VERSION
            )
        if owner:
            user = User.objects.filter(email__iexact=owner).first()
            if user is None:
                raise CommandError(f"no account with the email {owner}")
            samples = samples.filter(owner=user)
        with tqdm(
            total=samples.count(),
            desc="Queueing",
            unit="sample",
            disable=options["verbosity"] < 1,
        ) as bar:
            jobs = samples_reanalyze(samples=samples, progress=lambda _: bar.update(1))
        count = sum(job.total for job in jobs)
        self.stdout.write(
            f"Queued {count} samples for analysis in {len(jobs)} batch job(s)"
            + (f": {', '.join(str(job.pk) for job in jobs[:5])}" if jobs else ".")
            + (" ..." if len(jobs) > 5 else "")
        )
