"""Matched renders: asked for by a request, made by a worker, kept as a cache.

A render counts against its requester's storage quota (beside their samples);
to make room, that person's least recently used renders are deleted first, and
only when that is not enough is the render refused.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import zipfile
from datetime import timedelta
from functools import partial
from pathlib import Path

from celery import current_app
from django.core.files import File
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from accounts.rbac import quota
from library import selectors as library_selectors
from library.analysis import AudioDecodeError
from library.models import Sample, SampleStatus
from library.services.analysis import local_copy
from samplemind.errors import ProductError, QuotaExceeded
from samplemind.text import human_bytes
from studio.errors import NotAnalysed, RenderFailed, RendersBusy
from studio.matching import Plan, plan_render, source_of
from studio.models import Render, RenderStatus
from studio.rendering import render_file
from studio.selectors import render_filename

RENDER_SAMPLE_TASK = "studio.render_sample"

logger = logging.getLogger(__name__)

RENDERS_IN_FLIGHT = 4  # an account's renders waiting or running at once
# Longer sounds are not rendered: R3 pitch shifting takes up to ~0.8 s per second of
# audio (bench_render), and the task stops at 100 s.
MAX_SOURCE_SECONDS = 90
RETRY_FAILED_AFTER = timedelta(minutes=10)
STALE_AFTER = timedelta(minutes=3)  # a render "running" this long lost its worker
BYTES_PER_FRAME_AND_CHANNEL = 3  # 24-bit output


def renders_bytes(*, owner: User) -> int:
    total = Render.objects.filter(owner=owner).aggregate(total=Sum("size_bytes"))["total"]
    return total or 0


def estimated_bytes(sample: Sample, plan: Plan) -> int:
    frames = (sample.duration or 0) / plan.tempo_ratio * (sample.sample_rate or 44100)
    return int(frames * (sample.channels or 2) * BYTES_PER_FRAME_AND_CHANNEL) + 4096


def render_request(
    *,
    user: User,
    sample: Sample,
    bpm: float | None,
    key: str | None,
    mode: str | None,
    fmt: str,
    pitch_drums: bool = False,
    in_flight_limit: int | None = RENDERS_IN_FLIGHT,
    make_room: bool = True,
) -> Render:
    """The render of ``sample`` at ``bpm`` and ``key``: ready, on its way, or queued now.

    Raises :class:`NotAnalysed` (409) before analysis, :class:`RenderFailed`
    (422) for a recent failure, :class:`RendersBusy` (429) when the account
    has enough renders waiting and :class:`QuotaExceeded` (403) when even its
    old renders' room is not enough.
    """
    if sample.status != SampleStatus.READY:
        raise NotAnalysed("This sample is not analysed yet; its tempo and key are unknown.")
    if (sample.duration or 0) > MAX_SOURCE_SECONDS:
        raise ProductError(
            f"Only sounds up to {MAX_SOURCE_SECONDS} seconds long are rendered.",
            details={"sample": "too long"},
        )
    plan = plan_render(source_of(sample), bpm=bpm, key=key, mode=mode, pitch_drums=pitch_drums)
    target = {
        "owner": user,
        "sample": sample,
        "analyzer_version": sample.analyzer_version,
        "bpm": None if bpm is None else round(bpm, 2),
        "key": key,
        "mode": mode if key else None,
        "pitch_drums": pitch_drums,
        "format": fmt,
    }
    now = timezone.now()
    with transaction.atomic():
        # One request at a time per account: the quota and in-flight checks hold.
        User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
        render, created = Render.objects.get_or_create(**target, defaults=_plan_fields(plan))
        same_plan = (render.tempo_ratio, render.semitones) == (plan.tempo_ratio, plan.semitones)
        if not created and same_plan:
            if render.status == RenderStatus.READY and _stored(render):
                Render.objects.filter(pk=render.pk).update(last_used_at=now)
                return render
            running = render.status in (RenderStatus.PENDING, RenderStatus.RENDERING)
            if running and now - (render.started_at or render.created_at) < STALE_AFTER:
                return render
            failed_lately = render.finished_at and now - render.finished_at < RETRY_FAILED_AFTER
            if render.status == RenderStatus.FAILED and failed_lately:
                raise RenderFailed(f"This render failed: {render.error}")
        if in_flight_limit is not None:
            _check_in_flight(user, limit=in_flight_limit, exclude=render.pk)
        if make_room:
            _make_room(user, need=estimated_bytes(sample, plan), keep=[render.pk])
        if render.file:
            render.file.delete(save=False)
        for name, value in _plan_fields(plan).items():
            setattr(render, name, value)
        render.status, render.error, render.size_bytes = RenderStatus.PENDING, "", 0
        render.started_at = render.finished_at = None
        render.created_at = render.last_used_at = now
        render.save()
        transaction.on_commit(partial(_send, str(render.pk)))
    return render


def _check_in_flight(user: User, *, limit: int, exclude) -> None:
    waiting = (RenderStatus.PENDING, RenderStatus.RENDERING)
    in_flight = Render.objects.filter(owner=user, status__in=waiting).exclude(pk=exclude).count()
    if in_flight >= limit:
        raise RendersBusy(
            f"{in_flight} of your renders are still being made; try again in a few seconds.",
            details={"retry_after": RendersBusy.retry_after},
        )


def _plan_fields(plan: Plan) -> dict:
    return {"tempo_ratio": plan.tempo_ratio, "semitones": plan.semitones, "notes": plan.notes}


def _stored(render: Render) -> bool:
    return bool(render.file) and render.file.storage.exists(render.file.name)


def _make_room(user: User, *, need: int, keep: list) -> None:
    limit = quota(user, "storage_bytes")
    if limit is None:
        return
    used = library_selectors.storage_used(owner=user) + renders_bytes(owner=user)
    if used + need <= limit:
        return
    old = Render.objects.filter(owner=user, status=RenderStatus.READY).exclude(pk__in=keep)
    for render in old.order_by("last_used_at"):
        used -= render.size_bytes
        render_delete(render=render)
        if used + need <= limit:
            return
    raise QuotaExceeded(
        f"This render needs about {human_bytes(need)} but only "
        f"{human_bytes(max(limit - used, 0))} of your {human_bytes(limit)} storage is free.",
        details={"quota": "storage_bytes", "limit": limit, "used": used},
    )


def render_delete(*, render: Render) -> None:
    """Delete a render; its file goes once that commits (``studio.signals``)."""
    render.delete()


def _send(render_id: str) -> None:
    try:
        # studio.tasks.render_sample by its stable name: the tasks module imports this one.
        current_app.send_task(
            RENDER_SAMPLE_TASK,
            args=[render_id],
            queue="analysis",  # audio work: beside analysis, never in front of short jobs
            ignore_result=True,  # the outcome is stored on the render
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:  # noqa: BLE001 - any broker failure; the next request re-queues it
        logger.warning("render %s not queued", render_id, exc_info=True)


def render_produce(*, render_id: str) -> str:
    """Make a queued render (the worker's side); idempotent."""
    render = Render.objects.select_related("sample").filter(pk=render_id).first()
    if render is None or render.status == RenderStatus.READY:
        return "skipped"
    Render.objects.filter(pk=render.pk).update(
        status=RenderStatus.RENDERING, started_at=timezone.now()
    )
    plan = Plan(tempo_ratio=render.tempo_ratio, semitones=render.semitones)
    sample = render.sample
    folder = Path(tempfile.mkdtemp(prefix="samplemind-render-"))
    started = time.monotonic()
    try:
        target = folder / f"render.{render.format}"
        with local_copy(sample.file) as source:
            duration = render_file(
                source, target, plan, fmt=render.format, formants=sample.category == "vocal"
            )
        with open(target, "rb") as handle:
            render.file.save(f"render.{render.format}", File(handle), save=False)
    except (AudioDecodeError, FileNotFoundError, RuntimeError, OSError) as exc:
        render_failed(render_id=render.pk, reason=f"{type(exc).__name__}: {exc}")
        return "failed"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    updated = Render.objects.filter(pk=render.pk).update(
        status=RenderStatus.READY,
        file=render.file.name,
        size_bytes=render.file.size,
        duration=duration,
        seconds=round(time.monotonic() - started, 3),
        finished_at=timezone.now(),
    )
    if not updated:  # deleted meanwhile (its sample went): do not leave the file behind
        render.file.delete(save=False)
    return "ready"


def render_failed(*, render_id, reason: str) -> None:
    Render.objects.filter(pk=render_id).update(
        status=RenderStatus.FAILED, error=reason[:500], finished_at=timezone.now()
    )


def collection_render_request(
    *,
    user: User,
    samples: list[Sample],
    bpm: float | None,
    key: str | None,
    mode: str | None,
    fmt: str,
    pitch_drums: bool = False,
) -> list[Render]:
    """Renders of every analysed sample in a collection, queued together.

    The plan's batch size bounds how many (403 beyond it); room for all of
    them is made at once, never by deleting renders of this same request.
    """
    ready = [sample for sample in samples if sample.status == SampleStatus.READY]
    limit = quota(user, "batch_size")
    if limit is not None and len(ready) > limit:
        raise QuotaExceeded(
            f"This collection has {len(ready)} sounds; your plan renders {limit} at once.",
            details={"quota": "batch_size", "limit": limit},
        )
    target = {"bpm": bpm, "key": key, "mode": mode, "fmt": fmt, "pitch_drums": pitch_drums}
    with transaction.atomic():
        User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
        existing = Render.objects.filter(
            owner=user,
            sample__in=ready,
            bpm=None if bpm is None else round(bpm, 2),
            key=key,
            mode=mode if key else None,
            pitch_drums=pitch_drums,
            format=fmt,
        )
        done = {r.sample_id for r in existing if r.status == RenderStatus.READY}
        need = 0
        for sample in ready:
            if sample.pk not in done:
                plan = plan_render(
                    source_of(sample), bpm=bpm, key=key, mode=mode, pitch_drums=pitch_drums
                )
                need += estimated_bytes(sample, plan)
        _make_room(user, need=need, keep=[r.pk for r in existing])
        renders = []
        for sample in ready:
            try:
                renders.append(
                    render_request(
                        user=user, sample=sample, in_flight_limit=None, make_room=False, **target
                    )
                )
            except RenderFailed:
                continue  # failed lately: left out, and named in the zip's FAILED.txt
        return renders


def renders_write_zip(renders: list[Render], samples: list[Sample], out) -> list[str]:
    """The ready renders as one zip (numbered in collection order); FAILED.txt names the rest."""
    ready = {r.sample_id: r for r in renders if r.status == RenderStatus.READY}
    missing = [sample.name for sample in samples if sample.pk not in ready]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as bundle:
        for number, sample in enumerate(samples, start=1):
            render = ready.get(sample.pk)
            if render is None:
                continue
            render.sample = sample
            with render.file.open("rb") as source:
                name = f"{number:03d} {render_filename(render)}"
                with bundle.open(name, "w") as target:
                    shutil.copyfileobj(source, target, 1024 * 1024)
        if missing:
            text = "Not rendered (not analysed yet, or failed):\n" + "\n".join(missing) + "\n"
            bundle.writestr("FAILED.txt", text)
        return bundle.namelist()
