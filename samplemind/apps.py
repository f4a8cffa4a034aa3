"""The ``samplemind`` app: project-wide management commands and operations hooks."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class SampleMindConfig(AppConfig):
    name = "samplemind"
    verbose_name = "SampleMind"

    def ready(self) -> None:
        from samplemind.ops.db import install_fast_timestamps, install_slow_query_logger

        connection_created.connect(install_slow_query_logger, dispatch_uid="sm-slow-queries")
        connection_created.connect(install_fast_timestamps, dispatch_uid="sm-fast-timestamps")
