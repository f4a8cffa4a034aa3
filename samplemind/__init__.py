"""SampleMind: a self-hosted sample library for music producers."""

import os

# One BLAS thread per process, set before numpy loads: workers and web servers already
# run a process per core, and OpenBLAS's own threads, spinning between the analyser's
# small matrix products, cost an analysis in a worker about four times its CPU time.
# Set the variables to let a process use more.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from samplemind.celery import app as celery_app  # noqa: E402 - after the thread limits

__all__ = ("celery_app",)
