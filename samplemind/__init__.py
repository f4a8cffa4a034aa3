"""SampleMind: a self-hosted sample library for music producers."""

from samplemind.celery import app as celery_app

__all__ = ("celery_app",)
