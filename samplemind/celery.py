"""The Celery application: JSON only, late acknowledgement, two queues.

``celery`` takes short jobs; ``analysis`` takes audio analysis, so a pile of
uploads never delays e-mail or backups.
"""

import os

from celery import Celery
from kombu import Queue

from samplemind.ops.logs import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samplemind.settings")

app = Celery("samplemind")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("celery"), Queue("analysis"))
app.conf.imports = ("samplemind.tasks", "samplemind.ops.tasks")
app.autodiscover_tasks()

# Logging through Django's LOGGING, request ids carried into tasks, no DB pool in prefork.
connect_celery_signals()
