"""Settings, all from the environment.

No DATABASE_URL -> SQLite file in var/; no REDIS_URL -> Celery runs tasks in-process (eager), cache in local
memory. Sessions always live in the database so a Redis outage never logs anyone out or blocks a save.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FJZL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# DEBUG only when asked for (DJANGO_DEBUG=1: scripts/demo.sh, local development).
DEBUG = env_bool("DJANGO_DEBUG", False)
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
# Keys that were ever shipped in this repository or its compose file: public, so never acceptable in production.
PUBLIC_SECRET_KEYS = {DEV_SECRET_KEY, "change-me-in-production", "change-me", "secret", "django-insecure"}
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY in PUBLIC_SECRET_KEYS or len(SECRET_KEY) < 50
                  or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is missing, a public default or too short (at least 50 random characters), and DEBUG "
        "is off: refusing to start. Generate one with: python -c \"import secrets; print(secrets.token_urlsafe(50))\""
        " — or set DJANGO_DEBUG=1 for local development only.")
SECRET_KEY = SECRET_KEY or DEV_SECRET_KEY
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "csp",
    "accounts",
    "reporting",
    "indicators",
    "review",
    "exports",
    "files",
    "selfassessment",
    "communication",
    "results",
    "sampling",
    "demo",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    # First: forwarded headers count only when they come from the configured reverse proxy.
    "accounts.security.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Chinese JSON errors for the API and script requests; 405 for methods the pages never take (config.errors).
    "config.errors.JsonErrorMiddleware",
    "config.errors.RequestSizeMiddleware",
    "config.errors.PageMethodMiddleware",
    "config.errors.ControlCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.AbsoluteSessionLifetimeMiddleware",
    "accounts.middleware.ForcePasswordChangeMiddleware",
    # AxesMiddleware last, as django-axes documents.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
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
                "review.context_processors.notifications",
            ],
        },
    },
]
WSGI_APPLICATION = "config.wsgi.application"

# Persistent connections, checked before reuse: after PostgreSQL (or a pooler) dropped an idle connection the
# next request reconnects instead of failing.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}", conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL + a busy timeout lets the dev server and the in-process Celery tasks write side by side.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.UnitModelBackend",  # ModelBackend that reads the user's unit with the user
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Django's four validators with Chinese messages, the common list extended with Chinese passwords and decorated
# forms (Password@123), and the unit's identity including its names' pinyin (accounts.validators).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.validators.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "accounts.validators.CommonPasswordValidator"},
    {"NAME": "accounts.validators.NumericPasswordValidator"},
    {"NAME": "accounts.validators.UnitIdentityValidator"},
]
# Messages live in the (database) session, not a signed cookie: the admin's one-time password reset shows the
# new password once as a message, and a cookie is readable by whoever holds it.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions in the database; expire after a working day (8 h) of idleness. The idle timer is renewed at most once
# a minute (accounts.middleware), not on every request: an autosave every few seconds would write its session
# row each time.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_SAVE_EVERY_REQUEST = False
FJZL_SESSION_RENEW_SECONDS = int(os.environ.get("FJZL_SESSION_RENEW_SECONDS", "60"))
# Absolute lifetime: a session ends this long after the login however active it is (accounts.middleware).
FJZL_SESSION_ABSOLUTE_SECONDS = int(os.environ.get("FJZL_SESSION_ABSOLUTE_SECONDS", str(12 * 3600)))
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the data-entry page reads it for fetch() calls

# Lockout: 5 failures lock the username + address pair for 30 minutes, not a whole hospital behind one NAT.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The database handler plus two wider counts (accounts.lockout): failures for one username from any address
# (slow spraying from many addresses) and failures from one address for any username (spraying one password).
AXES_HANDLER = "accounts.lockout.SprayAwareDatabaseHandler"
FJZL_USERNAME_FAILURE_LIMIT = int(os.environ.get("FJZL_USERNAME_FAILURE_LIMIT", "20"))
FJZL_ADDRESS_FAILURE_LIMIT = int(os.environ.get("FJZL_ADDRESS_FAILURE_LIMIT", "30"))
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
# The address axes counts: REMOTE_ADDR, or the proxy's header only from a trusted proxy (never a client's claim).
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Without collectstatic (the demo, tests) WhiteNoise serves straight from the app and static folders.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("FJZL_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
# `manage.py backup` writes here (docker-compose.yml mounts a volume; copy it off the host too).
FJZL_BACKUP_DIR = Path(os.environ.get("FJZL_BACKUP_DIR", VAR_DIR / "backups"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded files (files app): S3-compatible object storage (MinIO, OSS, COS) when S3_BUCKET is set, so several
# web and worker machines share them; the local MEDIA_ROOT otherwise.
if os.environ.get("S3_BUCKET"):
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": os.environ["S3_BUCKET"],
        "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
        "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        "region_name": os.environ.get("S3_REGION", "us-east-1"),
        "addressing_style": os.environ.get("S3_ADDRESSING_STYLE", "path"),
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
    }}
# Upload limits (files.FileLimit rows set by the administrator override these defaults).
FILES_MAX_FILE_BYTES = int(os.environ.get("FILES_MAX_FILE_BYTES", 20 * 1024 * 1024))
FILES_MAX_UNIT_BYTES = int(os.environ.get("FILES_MAX_UNIT_BYTES", 500 * 1024 * 1024))
FILES_ZIP_MAX_ENTRIES = 5000
FILES_ZIP_MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
FILES_ZIP_MAX_RATIO = 100
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Request bodies are bounded before they are read: config.errors.RequestSizeMiddleware refuses a declared
# Content-Length above FJZL_MAX_REQUEST_BYTES (the largest upload + 1 MB; the proxy's client_max_body_size is
# the same 21m);
# non-file bodies (forms, JSON) are refused by Django above DATA_UPLOAD_MAX_MEMORY_SIZE, files above
# FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file rather than memory.
FJZL_MAX_REQUEST_BYTES = int(os.environ.get("FJZL_MAX_REQUEST_BYTES", str(FILES_MAX_FILE_BYTES + 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2 * 1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# The login throttle counts in the database (table created by accounts' migration), so it holds when Redis is down.
THROTTLE_CACHE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "fjzl_throttle_cache"}
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    # django-redis with IGNORE_EXCEPTIONS: a Redis outage degrades throttling/caching, never a login or a save.
    CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL,
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }, "throttle": THROTTLE_CACHE}
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "throttle": THROTTLE_CACHE}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_TASK_ALWAYS_EAGER)
# Jobs finish or fail visibly: a message is acknowledged only after its task ran, and handed back when the
# worker process dies; hard and soft time limits; the broker redelivers an unacknowledged message after the
# visibility timeout; the sweeper (exports.tasks.sweep_jobs) reruns or fails jobs whose worker vanished.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "1800"))
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 300}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
FJZL_SWEEP_SECONDS = float(os.environ.get("FJZL_SWEEP_SECONDS", "60"))
FJZL_JOB_STALE_SECONDS = int(os.environ.get("FJZL_JOB_STALE_SECONDS", "300"))
FJZL_JOB_MAX_ATTEMPTS = int(os.environ.get("FJZL_JOB_MAX_ATTEMPTS", "3"))
CELERY_BEAT_SCHEDULE = {
    "exports-sweep-jobs": {"task": "exports.sweep_jobs", "schedule": FJZL_SWEEP_SECONDS},
    "indicators-sweep-reevaluation": {"task": "indicators.sweep_reevaluation", "schedule": FJZL_SWEEP_SECONDS},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",  # refuses accounts that must change their password
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("API_USER_RATE", "6000/hour"), "login": "30/minute"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "分级诊疗制度建设信息平台 API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Schema-generation warnings (operationId / enum-name collisions) are documentation quality, not deployment
    # security: they are not allowed to fail `check --deploy` (tests/prod/test_deploy.py checks the schema itself).
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

# API tokens (accounts.models.ApiToken) expire after this many days; a password change revokes them all.
FJZL_API_TOKEN_DAYS = int(os.environ.get("FJZL_API_TOKEN_DAYS", "30"))

# The catalog a newly created task uses when none is named.
FJZL_DEFAULT_CATALOG = os.environ.get("FJZL_DEFAULT_CATALOG", "fjzl2019")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- Transport security -------------------------------------------------------------------------------------
# Production runs behind the reverse proxy of docker-compose.yml (deploy/nginx.conf): it terminates TLS and
# overwrites X-Forwarded-Proto and X-Real-IP; the application port is published to nobody else. Forwarded
# headers are honoured only from the addresses in FJZL_TRUSTED_PROXIES (accounts.security.TrustedProxyMiddleware
# removes them from any other peer), so a client cannot claim HTTPS or another address.
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
FJZL_TRUSTED_PROXIES = env_list("FJZL_TRUSTED_PROXIES")  # addresses or CIDRs of the proxy, e.g. 172.16.0.0/12
# The header carrying the client address set by the proxy (META name), honoured only from a trusted proxy;
# empty = REMOTE_ADDR (the direct peer) is the client address.
FJZL_CLIENT_IP_HEADER = os.environ.get("FJZL_CLIENT_IP_HEADER", "HTTP_X_REAL_IP" if FJZL_TRUSTED_PROXIES else "")
if FJZL_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]  # the proxy's health check speaks plain HTTP inside the network
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600) if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", HTTPS)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- communication: e-mail (SMTP from the environment; console backend when EMAIL_HOST is unset) ------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "分级诊疗制度建设信息平台 <noreply@fjzl.invalid>")
COMM_SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
COMM_MESSAGE_ID_DOMAIN = os.environ.get("COMM_MESSAGE_ID_DOMAIN", "fjzl.invalid")
COMM_CHANNELS = [c for c in os.environ.get("COMM_CHANNELS", "email").split(",") if c]
COMM_MAX_ATTEMPTS = int(os.environ.get("COMM_MAX_ATTEMPTS", "10"))
COMM_RETRY_BASE_SECONDS = int(os.environ.get("COMM_RETRY_BASE_SECONDS", "60"))
COMM_RETRY_MAX_SECONDS = int(os.environ.get("COMM_RETRY_MAX_SECONDS", str(6 * 3600)))
COMM_UNSUBSCRIBE_MAX_AGE = 366 * 86400
COMM_REMIND_BEFORE_DAYS = int(os.environ.get("COMM_REMIND_BEFORE_DAYS", "3"))  # N
COMM_ESCALATE_AFTER_DAYS = int(os.environ.get("COMM_ESCALATE_AFTER_DAYS", "3"))  # M
COMM_REVIEW_WAIT_DAYS = int(os.environ.get("COMM_REVIEW_WAIT_DAYS", "5"))  # K
COMM_REMIND_OVERDUE_WINDOW_DAYS = 60  # overdue reminders stop this long after a window closed
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "communication-reminders": {"task": "communication.tasks.send_scheduled_reminders",
                                "schedule": crontab(hour=8, minute=0)},
    "communication-flush": {"task": "communication.tasks.flush_deliveries", "schedule": 60.0},
    "communication-digests": {"task": "communication.tasks.send_digests", "schedule": crontab(hour=17, minute=30)},
    "sampling-remind-due-items": {"task": "sampling.remind_due_items", "schedule": crontab(hour=8, minute=10)},
}
# 整改事项到期: the unit is reminded daily from this many days before an item's deadline (and once the day after).
FJZL_RECTIFICATION_REMIND_DAYS = int(os.environ.get("FJZL_RECTIFICATION_REMIND_DAYS", "2"))
RESULTS_MIN_CELL_UNITS = int(os.environ.get("RESULTS_MIN_CELL_UNITS", "3"))
