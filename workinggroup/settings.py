"""Settings for Working Group Exchange: one file, read from the environment, failing closed.

With no environment at all it runs as a development box: SQLite in var/, Celery tasks run
eagerly on commit, attachments on the local disk, and a SECRET_KEY and keyring generated once
into var/. With DEBUG=False it refuses to start on any of those development secrets.
"""

import ipaddress
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from core import keyring as wg_keyring

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
VAR_DIR = Path(env.str("WG_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _warn(message):
    """Print a loud warning once per process start (settings are imported once)."""
    print(f"WARNING: {message}", file=sys.stderr)


def _secret(name):
    """A secret from NAME or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default="")


def _development_secret_key():
    """The development SECRET_KEY, generated once into var/ so sessions survive restarts."""
    path = VAR_DIR / "development-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# --- Secrets -------------------------------------------------------------------------------

SECRET_KEY = _secret("SECRET_KEY")
USING_DEVELOPMENT_SECRET_KEY = not SECRET_KEY
if USING_DEVELOPMENT_SECRET_KEY:
    SECRET_KEY = _development_secret_key()

WG_KEYRING = env.str("WG_KEYRING", default="")
USING_DEVELOPMENT_KEYRING = not WG_KEYRING
if USING_DEVELOPMENT_KEYRING:
    WG_KEYRING = str(VAR_DIR / "development-keyring.json")
    wg_keyring.ensure_development_keyring(WG_KEYRING)

if not DEBUG:
    if USING_DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY: DEBUG=False refuses the generated development key; "
            "set SECRET_KEY or SECRET_KEY_FILE."
        )
    if USING_DEVELOPMENT_KEYRING or wg_keyring.is_development_keyring(WG_KEYRING):
        raise ImproperlyConfigured(
            "WG_KEYRING: DEBUG=False refuses the development keyring; "
            "create one with `manage.py create_keyring PATH` and set WG_KEYRING."
        )
elif USING_DEVELOPMENT_SECRET_KEY or USING_DEVELOPMENT_KEYRING:
    _warn(
        "development SECRET_KEY and keyring in var/ are in use. "
        "They are for a development box only; production refuses them."
    )

# --- Core ----------------------------------------------------------------------------------

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])


def _is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Every allowed host a loopback address: nobody off this machine can reach the service, so
# production settings may run on plain HTTP (make serve-prod). Anything else needs TLS.
LOOPBACK_ONLY = bool(ALLOWED_HOSTS) and all(_is_loopback(h) for h in ALLOWED_HOSTS)
PLAIN_HTTP = not DEBUG and LOOPBACK_ONLY
if PLAIN_HTTP:
    _warn(
        "DEBUG=False on plain HTTP: every ALLOWED_HOSTS entry is a loopback address, so the "
        "HTTPS redirect, HSTS and secure cookies are off. Serve anything else behind TLS."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "workinggroup.signin.admin_apps.MemberAdminConfig",  # django.contrib.admin, MFA required
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "workinggroup",
    "workinggroup.signin",
    "audit",
    "cases",
    "sharing",
    "plans",
    "dashboard",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Uncaught exceptions (database down) and every error under /api/ answered as JSON or
    # the site's 500/503 page: above everything that may touch the database.
    "workinggroup.api_errors.ErrorAnswersMiddleware",
    "workinggroup.signin.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audit.context.RequestContextMiddleware",
    "workinggroup.signin.middleware.SessionLimitsMiddleware",
    "workinggroup.signin.middleware.MfaRequiredMiddleware",
    "web.middleware.DomainErrorPagesMiddleware",  # domain errors -> error pages, audited
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "workinggroup.urls"
# Uncaught exceptions go up to workinggroup.api_errors.ErrorAnswersMiddleware, which answers
# JSON or the site's 500/503 page and logs them: never Django's debug page, whatever DEBUG.
DEBUG_PROPAGATE_EXCEPTIONS = True
WSGI_APPLICATION = "workinggroup.wsgi.application"

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
                "web.views.frame",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Reconnecting on every request halves list throughput (measured); keep connections.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that does not answer fails the request in seconds (503), not minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
else:
    # IMMEDIATE transactions let concurrent writers queue on SQLite instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    if not DEBUG:
        _warn("DATABASE_URL is not set: running on SQLite (a small single-host deployment only).")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Members and sign-in -------------------------------------------------------------------

AUTH_USER_MODEL = "workinggroup.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked usernames before any hashing
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "signin:login"
LOGIN_REDIRECT_URL = "web:start"  # each member's main page (web.views.start)
API_TOKEN_DEFAULT_HOURS = env.int("API_TOKEN_DEFAULT_HOURS", default=8)
# A token is a session credential too (ASVS 3.3.2 level 2): at most 12 hours, 30 minutes idle.
API_TOKEN_MAX_HOURS = env.int("API_TOKEN_MAX_HOURS", default=12)
API_TOKEN_IDLE_MINUTES = 30
if not 1 <= API_TOKEN_DEFAULT_HOURS <= API_TOKEN_MAX_HOURS <= 12:
    raise ImproperlyConfigured(
        "API_TOKEN_MAX_HOURS: at most 12, and API_TOKEN_DEFAULT_HOURS at most that "
        "(tokens end 12 hours after issue, like sessions)."
    )

# Sessions: 30 minutes idle and 12 hours absolute, checked on every request by
# workinggroup.signin.middleware; the cookie itself dies with the browser.
SESSION_IDLE_SECONDS = 30 * 60
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
SESSION_ACTIVITY_WRITE_SECONDS = 60  # last activity is written at most once a minute
# Django's own expiry is a backstop an hour later; the middleware ends (and audits) at 12 h.
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS + 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# TOTP (django-otp): replayed codes are refused by the device's last_t; guessing slows down.
OTP_TOTP_ISSUER = "Working Group Exchange"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a TOTP secret

# Lockout (django-axes): 5 consecutive failures of one username within 15 minutes lock it
# from any address until `manage.py unlock_member` (see workinggroup/signin/lockout.py).
AXES_HANDLER = "workinggroup.signin.lockout.WindowedLockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = 5
SIGNIN_FAILURE_WINDOW_MINUTES = 15
AXES_COOLOFF_TIME = None  # a lock lasts until an administrator releases it
AXES_RESET_ON_SUCCESS = False  # reset after the TOTP step instead, not after the password
AXES_LOCKOUT_CALLABLE = "workinggroup.signin.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in the audit chain already
AXES_ENABLE_ADMIN = False  # releases go through unlock_member, which audits them
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "code"]
SILENCED_SYSTEM_CHECKS = [
    # axes.W006 wants ip_address among the lockout parameters. The policy locks the username
    # from any address on purpose; adding the address would let five typos behind one
    # agency's NAT lock out every member there until an administrator steps in.
    "axes.W006",
]

# django-guardian: no anonymous user, and object permissions on direct foreign keys only.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# --- API -----------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workinggroup.authentication.TokenAuthentication",
        "workinggroup.signin.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # JSON only: a form's empty field means "not given" to DRF, not "", so forms would
        # not keep the schema's contract. The upload endpoint installs its own multipart parser.
        "workinggroup.api_errors.JSONParser",  # deep nesting answers 400
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "workinggroup.schema_api.AutoSchema",
    "EXCEPTION_HANDLER": "workinggroup.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",  # the API reads JSON bodies only
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_PAGINATION_CLASS": "workinggroup.query_api.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Working Group Exchange API",
    "DESCRIPTION": "Case sharing for the US-GT-MX working group on trafficking and smuggling.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Two models have a `status`: give each choice set its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.CaseStatus",
        "ShareStatusEnum": "sharing.models.ShareStatus",
        "PlanStatusEnum": "plans.models.PlanStatus",
        "ParticipationStatusEnum": "plans.models.ParticipationStatus",
        "TaskStatusEnum": "plans.models.TaskStatus",
        "GapStatusEnum": "plans.models.GapStatus",
        "BorderSegmentEnum": "plans.models.BorderSegment",
        "PlanCloseStatusEnum": [("completed", "Completed"), ("cancelled", "Cancelled")],
    },
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security headers and cookies ---------------------------------------------------------
# Production (DEBUG=False) passes `manage.py check --deploy --fail-level WARNING`.

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Production's TLS settings; relaxed only on a loopback-only, plain-HTTP box (PLAIN_HTTP).
TLS = not DEBUG and not PLAIN_HTTP
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=TLS)
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$"]  # load balancers probe over plain HTTP
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000 if TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = TLS
SECURE_HSTS_PRELOAD = TLS
# __Host- cookies need HTTPS, so a box on http:// keeps the plain names.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = TLS
SESSION_COOKIE_NAME = "__Host-sessionid" if TLS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if TLS else "csrftoken"
LANGUAGE_COOKIE_NAME = "__Host-language" if TLS else "django_language"
CSRF_COOKIE_HTTPONLY = True  # no script reads it; forms carry the token
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = LANGUAGE_COOKIE_SAMESITE = "Lax"

# django-csp 4: no inline script or style anywhere (Swagger UI included, see templates/).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # Swagger UI's icons are data: URIs in its CSS
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Celery --------------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or env.str("REDIS_URL", default="")
BROKER_CONFIGURED = bool(CELERY_BROKER_URL)
if not BROKER_CONFIGURED:
    # Development box: tasks run in-process when their transaction commits.
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
    if not DEBUG:
        _warn("CELERY_BROKER_URL is not set: tasks run in the web process.")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A dead broker must not hang a request: fail fast and let beat's sweep catch up.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BEAT_SCHEDULE = {
    # The safety net: whatever the on-commit trigger missed (broker down) is drained here.
    "audit-drain-outbox": {"task": "audit.drain_outbox", "schedule": 5.0},
    # Tidies expired shares' permission rows; reads already refuse an expired share.
    "sharing-expire-due": {"task": "sharing.expire_due", "schedule": 60.0},
    # Owner liaisons hear of partners' lookup hits: the unnotified hit rows are the outbox.
    "sharing-notify-lookup-hits": {"task": "sharing.notify_lookup_hits", "schedule": 10.0},
    # Recipients hear, once per share, that it ends within 7 days (the notification centre).
    "sharing-notify-expiring": {"task": "sharing.notify_expiring", "schedule": 3600.0},
    # Sign the head when entries arrived since the last checkpoint.
    "audit-checkpoint": {"task": "audit.checkpoint", "schedule": 300.0},
    # Verify the entries since the last verified checkpoint; logs an alert on a broken chain.
    "audit-verify-recent": {"task": "audit.verify_recent", "schedule": 600.0},
    # Sign a checkpoint note when the log grew and have the witnesses cosign it.
    "audit-witness-checkpoint": {"task": "audit.witness_checkpoint", "schedule": 60.0},
    # Log an alert line when the outbox lags (audit logging is failing).
    "audit-watch-outbox": {"task": "audit.watch_outbox", "schedule": 60.0},
}
CELERY_TIMEZONE = "UTC"

# --- Caches --------------------------------------------------------------------------------

if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache("CACHE_URL")}
elif BROKER_CONFIGURED and CELERY_BROKER_URL.startswith("redis"):
    # Shared across web and worker hosts: the audit drain flag and rate limits live here.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CELERY_BROKER_URL,
            "KEY_PREFIX": "wgx",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Files ---------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(exist_ok=True)  # collectstatic fills it in production
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "attachments")},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_ROOT = BASE_DIR / "static" / "root"  # /favicon.ico, asked for by every browser
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=100 * 1024 * 1024)
# Uploads are read in chunks of this size: gunicorn receives at most 1 MiB per recv(), and
# smaller reads make it re-copy its buffer (docs/PERFORMANCE.md). With THREADED a helper
# thread encrypts while the next chunk is read: ~10% faster single uploads on a host with
# an idle core, for ~10% more CPU and ~6 MiB more memory per upload.
ATTACHMENT_UPLOAD_CHUNK_SIZE = 1024 * 1024
ATTACHMENT_UPLOAD_THREADED = env.bool("ATTACHMENT_UPLOAD_THREADED", default=False)
# No endpoint but the attachment upload accepts files, and that one installs its own
# encrypting handler: everywhere else file parts are dropped, so Django's temporary-file
# handler can never write an upload's plaintext to disk.
FILE_UPLOAD_HANDLERS = ["cases.upload.DiscardFileUploadHandler"]

# WG_STORAGE=s3: attachments in an S3-compatible bucket through django-storages and boto3
# (pinned). Only ciphertext is ever stored.
WG_STORAGE = env.str("WG_STORAGE", default="filesystem")
if WG_STORAGE == "s3":
    import importlib.util

    if importlib.util.find_spec("boto3") is None:
        raise ImproperlyConfigured("WG_STORAGE=s3 needs boto3: pip install -r requirements.txt")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": _secret("AWS_ACCESS_KEY_ID") or None,
            "secret_key": _secret("AWS_SECRET_ACCESS_KEY") or None,
            "location": env.str("AWS_LOCATION", default=""),
            "file_overwrite": False,
            "default_acl": None,
            # Reads spool ciphertext beyond 8 MiB to FILE_UPLOAD_TEMP_DIR instead of memory.
            "max_memory_size": 8 * 1024 * 1024,
        },
    }
elif WG_STORAGE != "filesystem":
    raise ImproperlyConfigured("WG_STORAGE: choose filesystem (default) or s3")

# --- Language and time ---------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Mail ----------------------------------------------------------------------------------

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = _secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="exchange@workinggroup.invalid")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Audit ---------------------------------------------------------------------------------

AUDIT_OUTBOX_LAG_ALERT_SECONDS = env.int("AUDIT_OUTBOX_LAG_ALERT_SECONDS", default=300)
# A non-empty outbox nobody drained for this long means the workers are gone (beat drains
# every 5 s): /healthz reports the drain `stuck` and logs an AUDIT ALERT line.
AUDIT_DRAIN_STUCK_SECONDS = env.int("AUDIT_DRAIN_STUCK_SECONDS", default=60)
# A signed checkpoint whenever the chain crosses a multiple of this (and by beat).
AUDIT_CHECKPOINT_EVERY = env.int("AUDIT_CHECKPOINT_EVERY", default=1000)

# --- The witnessed audit log (docs/audit.md, "The witnessed log") ------------------------------
# The origin line of this deployment's checkpoint notes (a schema-less URL naming it).
WG_AUDIT_ORIGIN = env.str("WG_AUDIT_ORIGIN", default="") or (
    f"{urlsplit(SITE_URL).netloc or 'localhost'}/wgx-audit"
)
# Witnesses, one per country, as JSON: [{"name": ..., "url": ..., "vkey": ...}, ...].
# Empty (make run's default): the log is unwitnessed, and a check warns under DEBUG=False.
WG_WITNESSES = env.json("WG_WITNESSES", default=[])
# How many of them must have cosigned a checkpoint consistent with the current tree.
WG_WITNESS_QUORUM = env.int("WG_WITNESS_QUORUM", default=min(2, len(WG_WITNESSES)))
WG_WITNESS_TIMEOUT_SECONDS = env.float("WG_WITNESS_TIMEOUT_SECONDS", default=5.0)
# A checkpoint note is signed and submitted every this many entries, and by beat every minute
# when the log grew.
AUDIT_NOTE_EVERY = env.int("AUDIT_NOTE_EVERY", default=1000)

# --- Hit/no-hit lookup ---------------------------------------------------------------------

LOOKUP_RATE_LIMIT_PER_HOUR = env.int("LOOKUP_RATE_LIMIT_PER_HOUR", default=60)

# --- Logging -------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # failures and lockouts are in the audit chain
    },
}
