"""Import a folder tree of samples for one account, skipping exact and near-duplicates.

    python manage.py import_samples DIR --owner EMAIL [--collection NAME] [--wait]
        [--keep-duplicates]

Folder names become tags (Drums/Kicks/BD_01.wav is tagged "drums", "kicks").
A file that sounds like one of the account's samples (re-encoded, quieter,
trimmed...) is a near-duplicate: skipped and listed in the summary, or with
--keep-duplicates stored and linked to that sample (see the duplicates page).
Quotas are not applied: this is the operator's tool.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import User
from library.archives import AUDIO_EXTENSIONS
from library.models import BatchJob, BatchKind, BatchStatus, Collection, Sample, SampleStatus
from library.services import analysis
from library.services.batches import batch_job_refresh
from library.services.collections import collection_add_samples, collection_create
from library.services.imports import samples_import
from library.services.uploads import SampleFields, Spooled, file_digest
from samplemind.celery import app as celery_app

STALL_SECONDS = 30
# How often --wait looks: the summary follows the last analysis within this.
POLL_SECONDS = 0.1
FINISHED = (SampleStatus.READY, SampleStatus.FAILED)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--owner", required=True, help="email of the account to import into")
        parser.add_argument("--collection", help="also add the samples to this collection")
        parser.add_argument("--wait", action="store_true", help="return once analysis is over")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to --wait at most")
        parser.add_argument(
            "--keep-duplicates",
            action="store_true",
            help="store files that sound like a sample already there (linked to it)",
        )

    def handle(
        self,
        *args,
        directory: Path,
        owner: str,
        collection: str | None,
        wait: bool,
        timeout: float,
        keep_duplicates: bool = False,
        **options,
    ) -> None:
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder")
        user = User.objects.filter(email__iexact=owner).first()
        if user is None:
            raise CommandError(f"no account with the email {owner}")
        paths = sorted(
            p
            for p in directory.rglob("*")
            if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith("._")
        )
        if not paths:
            raise CommandError(f"no audio files (wav, aiff, flac, ogg, mp3) under {directory}")
        target = self._collection(user, collection) if collection else None
        job = BatchJob.objects.create(
            owner=user, kind=BatchKind.IMPORT, status=BatchStatus.RUNNING, total=len(paths)
        )
        progress = tqdm(paths, desc="Importing", unit="file", disable=options["verbosity"] < 1)
        result = samples_import(
            owner=user,
            files=self._spooled(directory, progress),
            batch=job,
            keep_duplicates=keep_duplicates,
        )
        created, errors = result.created, result.errors
        duplicates = [sample_id for _name, sample_id in result.duplicates]
        if target is not None and duplicates:
            collection_add_samples(
                collection=target, actor=user, sample_ids=[i for i in duplicates if i]
            )
        skipped_copies = [] if keep_duplicates else result.near_duplicates
        job.total = len(paths) - len(duplicates) - len(skipped_copies)
        job.errors = errors
        job.save(update_fields=["total", "errors"])
        if target is not None and created:
            collection_add_samples(
                collection=target, actor=user, sample_ids=[s.pk for s in created]
            )
        self.stdout.write(
            f"Imported {len(created)} files, skipped {len(duplicates)} duplicates, "
            f"{len(errors)} could not be read."
        )
        for error in errors:
            self.stdout.write(f"  {error['file']}: {error['error']}")
        if result.near_duplicates:
            what = "kept (linked to it)" if keep_duplicates else "skipped (--keep-duplicates keeps)"
            self.stdout.write(
                f"{len(result.near_duplicates)} near-duplicates {what}, each sounds like:"
            )
            for name, _sample_id, original in result.near_duplicates:
                self.stdout.write(f"  {name}: “{original}”")
        if wait:
            # Duplicates count too: their samples may still be waiting for analysis.
            existing = [sample_id for sample_id in duplicates if sample_id]
            self._wait(job, [s.pk for s in created] + existing, timeout)
        else:
            batch_job_refresh(job=job)

    def _spooled(self, directory: Path, paths) -> Iterator[tuple[Spooled, SampleFields]]:
        """Each file with its digest, tagged with its folders' names."""
        for path in paths:
            relative = path.relative_to(directory)
            spooled = Spooled(
                name=str(relative), path=path, sha256=file_digest(path), size=path.stat().st_size
            )
            folders = [part.replace("_", " ") for part in relative.parts[:-1]]
            yield spooled, SampleFields(extra_tags=folders)

    def _analyse_here(self, samples) -> None:
        """Analyse one file after another in this process (no worker is doing it)."""
        for sample_id in tqdm(list(samples.values_list("pk", flat=True)), desc="Analysing here"):
            try:
                analysis.sample_analyze(sample_id=str(sample_id))
            except Exception as exc:  # noqa: BLE001 - reported on the sample, then summarised
                analysis.sample_analysis_failed(sample_id=str(sample_id), reason=str(exc))

    def _collection(self, user: User, name: str) -> Collection:
        existing = Collection.objects.filter(owner=user, name__iexact=name).first()
        return existing or collection_create(owner=user, name=name)

    def _wait(self, job: BatchJob, ids: list, timeout: float) -> None:
        ids = list(dict.fromkeys(str(sample_id) for sample_id in ids))
        waiting = Sample.objects.filter(pk__in=ids)
        if ids and waiting.exclude(status__in=FINISHED).exists():
            self._wait_for_analysis(waiting, len(ids), timeout)
        batch_job_refresh(job=job)
        ready = waiting.filter(status=SampleStatus.READY).count()
        failed = list(waiting.filter(status=SampleStatus.FAILED))
        self.stdout.write(
            f"Analysed: {ready} ready, {len(failed)} failed, "
            f"{len(ids) - ready - len(failed)} still waiting."
        )
        for sample in failed:
            self.stdout.write(f"  {sample.original_filename}: {sample.error}")

    def _wait_for_analysis(self, waiting, total: int, timeout: float) -> None:
        # limit=1: the first answer will do (without it, ping waits out its whole timeout).
        if not celery_app.control.ping(timeout=1.0, limit=1):
            self.stdout.write("No Celery worker answered; analysing in this process.")
            self._analyse_here(waiting.exclude(status__in=FINISHED))
        deadline = time.monotonic() + timeout
        idle_since = time.monotonic()
        with tqdm(total=total, desc="Analysing", unit="file") as bar:
            while True:
                statuses = list(waiting.values_list("status", flat=True))
                done = sum(1 for status in statuses if status in FINISHED)
                if done > bar.n or SampleStatus.ANALYZING in statuses:
                    idle_since = time.monotonic()
                bar.update(done - bar.n)
                if done >= min(total, len(statuses)) or time.monotonic() > deadline:
                    break
                if time.monotonic() - idle_since > STALL_SECONDS:
                    # Nothing moved: the messages were lost or no worker takes them.
                    self._analyse_here(waiting.filter(status=SampleStatus.PENDING))
                    idle_since = time.monotonic()
                time.sleep(POLL_SECONDS)
