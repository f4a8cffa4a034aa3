"""Scheduled operations tasks (see ``CELERY_BEAT_SCHEDULE`` in the settings)."""

from __future__ import annotations

import logging

from celery import shared_task

from samplemind.ops import backups, pitr

logger = logging.getLogger(__name__)


# Acknowledged on receipt: a backup can outlast the broker's visibility timeout,
# and a redelivered copy would start a second dump. A lost run waits for the next.
@shared_task(
    name="samplemind.backup",
    ignore_result=False,  # returns the backup's name
    acks_late=False,
    autoretry_for=(backups.BackupError,),
    # Every 90 s for 15 minutes: a countdown must stay below the broker's visibility timeout.
    retry_backoff=90,
    retry_backoff_max=90,
    retry_jitter=False,
    max_retries=10,
)
def backup() -> str:
    """Make a backup, then delete the ones outside the retention; return its name."""
    manifest = backups.backup_create()
    backups.backups_prune()
    return manifest["name"]


@shared_task(
    name="samplemind.basebackup",
    ignore_result=False,  # returns the base backup's name
    acks_late=False,  # as backup(): a copy of the cluster can outlast the visibility timeout
    autoretry_for=(backups.BackupError,),
    retry_backoff=90,
    retry_backoff_max=90,
    retry_jitter=False,
    max_retries=10,
)
def basebackup() -> str:
    """Take a base backup for point-in-time recovery, then apply the retention."""
    manifest = pitr.basebackup_create()
    pitr.basebackups_prune()
    return manifest["name"]
