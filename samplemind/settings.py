"""Django settings for SampleMind, read from the environment (see .env.example).

Importing them starts nothing and writes nothing. The launcher
(``python -m samplemind.launch``, behind ``make run``/``test``/``bench``) starts
the private servers of :mod:`samplemind.embedded`, creates the data folders and
the secret key file, and exports ``DATABASE_URL`` and ``REDIS_URL``. Without
them the settings name where the private servers listen once started.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from samplemind import embedded
from samplemind.ops.db import pool_options
from samplemind.ops.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DATA_DIR = embedded.data_path()

DEBUG = env.bool("DEBUG", default=False)
# People reach the site over HTTPS: secure cookies, https links in mail, HSTS. `make run`
# serves plain http://127.0.0.1 with DEBUG off, so it sets this to false.
SAMPLEMIND_HTTPS = env.bool("SAMPLEMIND_HTTPS", default=not DEBUG)


def _secret_key() -> str:
    """An explicit SECRET_KEY, or the one the launcher keeps in the data folder.

    Neither: empty, and Django refuses to use it ("The SECRET_KEY setting must
    not be empty").
    """
    if key := env.str("SECRET_KEY", default=""):
        return key
    try:
        return embedded.secret_key_file(DATA_DIR).read_text().strip()
    except FileNotFoundError:
        return ""


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.spotify",
    "csp",
    "django_htmx",
    "accounts",
    "library",
    "search",
    "billing",
    "studio",
    "organise",
    "web",
    "samplemind",
]

MIDDLEWARE = [
    # First, so every line logged while a request runs carries its id.
    "samplemind.ops.logs.RequestIdMiddleware",
    # Health probes come from addresses ALLOWED_HOSTS leaves out, over plain HTTP.
    "samplemind.health.HealthProbeMiddleware",
    # A database that does not answer: a 503 page or API error instead of a 500.
    "samplemind.outage.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check, which reads the body: an oversized upload gets a 413.
    "library.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # API requests per person per minute and day, for the usage page.
    "billing.middleware.ApiUsageMiddleware",
]

ROOT_URLCONF = "samplemind.urls"
WSGI_APPLICATION = "samplemind.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --------------------------------------------------------------------------- database


def _database(url: str) -> dict:
    config = env.db_url_config(url)
    # A percent-encoded host is a unix socket folder (the embedded server's form).
    config["HOST"] = unquote(str(config.get("HOST", "")))
    config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    # libpq's own wait for a server that does not answer (its minimum is 2 s); a
    # ?connect_timeout= in DATABASE_URL wins.
    config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # psycopg's pool (DB_POOL, on by default); Django's pool requires CONN_MAX_AGE=0.
    # Celery prefork workers switch it off (samplemind.ops.db).
    if pool := pool_options(env):
        config["OPTIONS"]["pool"] = pool
        config["CONN_MAX_AGE"] = 0
    return config


DATABASE_URL = env.str("DATABASE_URL", default="") or embedded.expected_postgres_url(DATA_DIR)
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --------------------------------------------------------------------------- Redis, cache, Celery

REDIS_URL = env.str("REDIS_URL", default="") or embedded.expected_redis_url(DATA_DIR)


def celery_url(redis_url: str) -> str:
    """Kombu spells a unix-socket Redis ``redis+socket://path?virtual_host=N``."""
    if not redis_url.startswith("unix://"):
        return redis_url
    path, _, query = redis_url.removeprefix("unix://").partition("?")
    db = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("db", "0")
    return f"redis+socket://{path}?virtual_host={db}"


CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "samplemind",
        # Redis down means slower, not broken: reads miss, writes are dropped.
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1, "IGNORE_EXCEPTIONS": True},
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or CELERY_BROKER_URL
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
# A task is acknowledged once it has finished, so a killed worker's task runs again
# (see SAMPLEMIND_VISIBILITY_TIMEOUT below).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Tasks that need longer say so (and see SAMPLEMIND_VISIBILITY_TIMEOUT).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=90)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=100)
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis hands an unacknowledged task (its worker was killed) to a worker again after this
# long, so a crash costs about two minutes. The rule that keeps it safe, checked for every
# task by tests/test_celery.py: a retry's countdown stays below it (a task waiting for its
# ETA is unacknowledged too), and a task that may run longer either acknowledges on
# receipt (acks_late=False) or refuses to run twice at once (analysis: an advisory lock).
SAMPLEMIND_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=120)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": SAMPLEMIND_VISIBILITY_TIMEOUT,
    # Workers look for such tasks every 10 s (kombu's default scans every 100 s).
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    # A broker that is down fails a publish (an upload's, a health check's) within
    # seconds instead of holding the request; the re-queue task sends it later.
    # Workers reconnect on their own terms (broker_connection_max_retries).
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
# Nothing reads most tasks' return values (a sample's state lives in its row); tasks
# whose callers wait for one say ignore_result=False.
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup closes the database connection around every task; a prefork
# process reuses it for this many tasks instead (samplemind.ops.db).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=200)
CELERY_WORKER_HEARTBEAT_INTERVAL = 30
CELERY_TASK_ROUTES = {
    "library.analyze_sample": {"queue": "analysis"},
    "library.analyze_samples": {"queue": "analysis"},
}
# CELERY_BEAT_SCHEDULE: at the end, once every setting it reads is known.

# --------------------------------------------------------------------------- auth

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Django's ModelBackend, first: a locked account's password is tried by no backend.
    "accounts.backends.SignInLockBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"

# allauth: email is the login; no usernames anywhere.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# "mandatory": sign-in waits until the mailed link is followed, so sign-up can answer a
# taken address as a new one and mail its owner (allauth's enumeration prevention).
# "optional" signs in at once, but then sign-up has to say that an address is taken.
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SAMPLEMIND_HTTPS else "http"
# Page rate limits (allauth's own, in the cache): per IP and per account. Wrong passwords
# per account are counted by accounts.lockout instead, shared with the API (5 a minute,
# then 429 with Retry-After); "login" is the API's 30 sign-in attempts a minute per IP.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "confirm_email": "1/3m/key",
}
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True


def _social_providers() -> dict:
    """A provider is switched on when its client id and secret are in the environment."""
    providers = {}
    for provider, scopes in (
        ("google", ["profile", "email"]),
        ("github", ["user:email"]),
        ("spotify", ["user-read-email"]),
    ):
        client_id = env.str(f"{provider.upper()}_CLIENT_ID", default="")
        secret = env.str(f"{provider.upper()}_CLIENT_SECRET", default="")
        if client_id and secret:
            providers[provider] = {
                "APPS": [{"client_id": client_id, "secret": secret, "key": ""}],
                "SCOPE": scopes,
            }
    return providers


SOCIALACCOUNT_PROVIDERS = _social_providers()

# --------------------------------------------------------------------------- files

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The launcher creates it (WhiteNoise warns when it is missing).
STATIC_ROOT = env.path("STATIC_ROOT", default=DATA_DIR / "static")
# WhiteNoise serves STATIC_ROOT (filled by collectstatic: the image build, `make run`'s
# --prepare); with DEBUG (`make dev`) it reads the app folders directly and sees edits.
# Media have no URL at all: originals and previews leave through the views that check who
# may have them (library/api/files.py), backups never.
MEDIA_URL = None
MEDIA_ROOT = env.path("MEDIA_ROOT", default=DATA_DIR / "media")
# How a permission-checked view hands a local media file over: "" (Django streams it),
# "x-accel-redirect" (nginx: an `internal` location at SENDFILE_URL aliases MEDIA_ROOT) or
# "x-sendfile" (Apache's mod_xsendfile, lighttpd: the file's absolute path). README: Production.
SAMPLEMIND_SENDFILE = env.str("SAMPLEMIND_SENDFILE", default="")
SAMPLEMIND_SENDFILE_URL = env.str("SAMPLEMIND_SENDFILE_URL", default="/protected-media/")
if SAMPLEMIND_SENDFILE not in ("", "x-accel-redirect", "x-sendfile"):
    raise ImproperlyConfigured("SAMPLEMIND_SENDFILE must be empty, x-accel-redirect or x-sendfile")

# Uploads: the largest single file, and limits on what an archive may expand to.
SAMPLEMIND_MAX_UPLOAD_BYTES = env.int("SAMPLEMIND_MAX_UPLOAD_BYTES", default=200 * 1024**2)
SAMPLEMIND_MAX_ARCHIVE_BYTES = env.int("SAMPLEMIND_MAX_ARCHIVE_BYTES", default=2 * 1024**3)
SAMPLEMIND_MAX_ARCHIVE_MEMBERS = env.int("SAMPLEMIND_MAX_ARCHIVE_MEMBERS", default=2000)
SAMPLEMIND_MAX_AUDIO_SECONDS = env.float("SAMPLEMIND_MAX_AUDIO_SECONDS", default=3600.0)
# Analysis is retried this often before a sample is marked failed; a sample
# "analyzing" for longer than the stale time is handed to a worker again. Killed workers'
# tasks come back sooner through the broker (CELERY_VISIBILITY_TIMEOUT); this catches
# messages lost altogether, and outlasts the analysis task's hard time limit (300 s).
SAMPLEMIND_ANALYSIS_MAX_ATTEMPTS = env.int("SAMPLEMIND_ANALYSIS_MAX_ATTEMPTS", default=3)
SAMPLEMIND_ANALYSIS_STALE_SECONDS = env.int("SAMPLEMIND_ANALYSIS_STALE_SECONDS", default=360)
# One request carries at most a file's limit per file of the plan's batch
# size, and never more than this; larger bodies are refused before they are read.
SAMPLEMIND_MAX_REQUEST_BYTES = env.int("SAMPLEMIND_MAX_REQUEST_BYTES", default=2 * 1024**3)
DATA_UPLOAD_MAX_NUMBER_FILES = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024**2
FILE_UPLOAD_HANDLERS = [
    "library.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # Any S3-compatible server: AWS, MinIO, Ceph, Garage...
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": None,
            # Downloads and previews redirect to a signed URL that is good this long.
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            "file_overwrite": False,
        },
    }
    # Backups: backups/ in BACKUP_BUCKET, or in the media bucket, whose objects are private
    # (no view ever signs a URL for them).
    _backup_storage = {
        **_default_storage,
        "OPTIONS": {
            **_default_storage["OPTIONS"],
            "bucket_name": env.str("BACKUP_BUCKET", default="") or AWS_STORAGE_BUCKET_NAME,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    # Beside the media folder, not in it: backups/NAME.dump under the data folder.
    _backup_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env.str("BACKUP_ROOT", default="") or DATA_DIR,
            "base_url": None,
        },
    }

STORAGES = {
    "default": _default_storage,
    "backups": _backup_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --------------------------------------------------------------------------- email

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SampleMind <noreply@localhost>")

# --------------------------------------------------------------------------- API

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "samplemind.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Signed in; an API key only where accounts.rbac.API_KEY_SCOPES_FOR_READS lets it.
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.SignedIn"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.RoleRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "samplemind.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "samplemind.api.exception_handler",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SampleMind API",
    "DESCRIPTION": "Upload, analyse, search and organise audio samples.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SampleStatusEnum": "library.models.SampleStatus",
        "BatchStatusEnum": "library.models.BatchStatus",
        "CategoryEnum": "library.models.CATEGORY_CHOICES",
    },
}

# --------------------------------------------------------------------------- search

# Like CACHES: an alias maps to a backend class (a search.backends.base.BaseSearchBackend)
# and its options; see search/backends/postgres/backend.py for what each option does.
SEARCH_BACKENDS = {
    "default": {
        "BACKEND": env.str(
            "SEARCH_BACKEND", default="search.backends.postgres.PostgresSearchBackend"
        ),
        "OPTIONS": {
            "ef_search": env.int("SEARCH_HNSW_EF_SEARCH", default=100),
            "hybrid_candidates": env.int("SEARCH_HYBRID_CANDIDATES", default=100),
        },
    }
}
# Seconds a search answer stays cached (search/cache.py; changes retire it sooner); 0: off.
SEARCH_CACHE_SECONDS = env.int("SEARCH_CACHE_SECONDS", default=300)

# --------------------------------------------------------------------------- security

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=SAMPLEMIND_HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=SAMPLEMIND_HTTPS)
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies in front of the app append to X-Forwarded-For. 0: the header is
# ignored (anybody can send it) and REMOTE_ADDR is the client. accounts.network.client_ip
# is the one place that reads it: audit log, API key CIDR allowlists and every rate limit.
TRUSTED_PROXY_COUNT = env.int("SAMPLEMIND_TRUSTED_PROXIES", default=0)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SAMPLEMIND_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)  # usually the proxy's job

# Content Security Policy (django-csp 4): only our own origin; media may be
# served from the storage bucket's host. 'wasm-unsafe-eval' lets the player's vendored
# key shifter (an AudioWorklet) compile its WebAssembly; it allows no JavaScript eval.
_MEDIA_HOSTS = env.list("CSP_MEDIA_HOSTS", default=[])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *_MEDIA_HOSTS],
        "media-src": ["'self'", "blob:", *_MEDIA_HOSTS],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}

# django-ratelimit counts in the shared cache (Redis).
RATELIMIT_USE_CACHE = "default"
# With Redis down, sign-in keeps working (without its rate limit) rather than locking everyone out.
RATELIMIT_FAIL_OPEN = True
RATELIMIT_VIEW = "accounts.views.rate_limited"
RATELIMIT_IP_META_KEY = "accounts.network.ratelimit_ip"

# --------------------------------------------------------------------------- i18n, logging

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "plain" for people (make run sets DEBUG), "json" (one object per line) for log collectors.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
# One line per request (method, path, status, duration, user); runserver prints its own.
LOG_REQUESTS = env.bool("LOG_REQUESTS", default=LOG_FORMAT == "json")
LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL, log_requests=LOG_REQUESTS)
# Statements slower than this are logged (samplemind.db.slow), without parameters; 0: off.
SLOW_QUERY_MS = env.int("SLOW_QUERY_MS", default=500)

# --------------------------------------------------------------------------- billing

# Without STRIPE_SECRET_KEY billing is manual: administrators assign plans in the admin.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
# The signing secret of the webhook endpoint https://<host>/billing/webhook/ (whsec_...).
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Another Stripe API address, e.g. stripe-mock's; empty for Stripe's own.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
if STRIPE_SECRET_KEY:
    # Upgrade and portal forms answer with a redirect to Stripe's hosted pages.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] += env.list(
        "STRIPE_REDIRECT_ORIGINS",
        default=["https://checkout.stripe.com", "https://billing.stripe.com"],
    )

# --------------------------------------------------------------------------- backups

# Backups go to this storage alias under backups/: by default "backups" (see STORAGES),
# which no URL reaches.
BACKUP_STORAGE = env.str("BACKUP_STORAGE", default="backups")
# Cron line (minute hour day month weekday, UTC) for the backup task; empty: no scheduled backups.
BACKUP_SCHEDULE = env.str("BACKUP_SCHEDULE", default="30 2 * * *")
BACKUP_KEEP_DAILY = env.int("BACKUP_KEEP_DAILY", default=7)
BACKUP_KEEP_WEEKLY = env.int("BACKUP_KEEP_WEEKLY", default=4)
# pg_dump --compress: a gzip level, or e.g. "zstd:3" where pg_dump is built with it.
BACKUP_COMPRESSION = env.str("BACKUP_COMPRESSION", default="6")
# A folder with pg_dump/pg_restore to use; empty: PATH or the embedded server's, by version.
BACKUP_PG_BIN_DIR = env.str("BACKUP_PG_BIN_DIR", default="")
BACKUP_TIME_LIMIT = env.int("BACKUP_TIME_LIMIT", default=3 * 3600)

# Point-in-time recovery (samplemind/ops/pitr.py): the embedded server archives its WAL to
# this folder (WAL_ARCHIVE_DIR, default $SAMPLEMIND_DATA/wal-archive; "off": no archiving);
# beat takes a base backup on BASEBACKUP_SCHEDULE (empty: none) and keeps the newest
# BASEBACKUP_KEEP, deleting the archived WAL that only older ones needed.
WAL_ARCHIVE_DIR = embedded.wal_archive_dir(DATA_DIR)
BASEBACKUP_SCHEDULE = env.str("BASEBACKUP_SCHEDULE", default="15 3 * * *")
BASEBACKUP_KEEP = env.int("BASEBACKUP_KEEP", default=7)

# --------------------------------------------------------------------------- scheduled tasks


def _backup_entry(task: str, schedule: str) -> dict:
    """A cron-scheduled backup task, acknowledged on receipt, with the backup time limit."""
    return {
        "task": task,
        "schedule": crontab.from_string(schedule),
        "options": {
            "expires": 6 * 3600,
            "soft_time_limit": BACKUP_TIME_LIMIT,
            "time_limit": BACKUP_TIME_LIMIT + 300,
        },
    }


CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-analysis": {
        "task": "library.requeue_stuck_samples",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Large batch jobs are recounted at most once a second as analyses finish; this
    # counts the last ones nobody read (library/services/batches.py).
    "refresh-unfinished-batches": {
        "task": "library.refresh_unfinished_batches",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "worker-heartbeat": {
        "task": "samplemind.heartbeat",
        "schedule": CELERY_WORKER_HEARTBEAT_INTERVAL,
        "options": {"expires": CELERY_WORKER_HEARTBEAT_INTERVAL},
    },
    "search-prune-terms": {
        "task": "search.prune_terms",
        "schedule": 24 * 3600.0,
        "options": {"expires": 3600},
    },
    # Search entries that drifted from their samples (a restore, a hand edit) are rewritten.
    "search-sweep-index": {
        "task": "search.sweep_index",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
    # Samples stored before near-duplicate checks existed get their fingerprints.
    "organise-backfill-fingerprints": {
        "task": "organise.backfill_fingerprints",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
    "billing-reconcile": {
        "task": "billing.reconcile",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 3600},
    },
    # Empty BACKUP_SCHEDULE / BASEBACKUP_SCHEDULE: that task is not scheduled.
    **({"backup": _backup_entry("samplemind.backup", BACKUP_SCHEDULE)} if BACKUP_SCHEDULE else {}),
    **(
        {"basebackup": _backup_entry("samplemind.basebackup", BASEBACKUP_SCHEDULE)}
        if BASEBACKUP_SCHEDULE
        else {}
    ),
}
