"""Celery tasks for the studio: thin wrappers around its services."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from samplemind.ops.locks import advisory_lock
from studio.services.renders import render_failed, render_produce


@shared_task(
    name="studio.render_sample",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=5,
    soft_time_limit=100,
    time_limit=110,
)
def render_sample(render_id: str) -> str:
    # A second copy (the broker's redelivery, a re-queue) finds the lock taken.
    with advisory_lock(f"studio.render_sample:{render_id}") as mine:
        if not mine:
            return "skipped"
        try:
            return render_produce(render_id=render_id)
        except SoftTimeLimitExceeded:
            render_failed(render_id=render_id, reason="The render took too long and was stopped.")
            return "failed"
