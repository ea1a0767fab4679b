"""carryover settings, read from the environment (12-factor).

Two modes:
- development (default): the embedded default. SQLite under ./var/, a secret key
  generated into ./var/secret_key, local-memory cache, DEBUG on.
- production (CARRYOVER_MODE=production): every secret from the environment (or a
  NAME_FILE), DEBUG off, secure cookies and HSTS; `manage.py check --deploy` is clean.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent


def _logging_config(level: str, style: str) -> dict[str, object]:
    from carryover.ops.logs import logging_config

    config = logging_config(level)
    if style == "text":
        config["formatters"] = {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
        }
        config["handlers"]["console"]["formatter"] = "text"  # type: ignore[index]
    return config


def _check_trusted_proxies(values: list[str]) -> None:
    from carryover.ops.proxy import parse_networks

    parse_networks(values)


def env_str(name: str, default: str | None = None) -> str | None:
    """A setting from NAME, or from the file named by NAME_FILE (Docker/K8s secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


MODE = os.environ.get("CARRYOVER_MODE", "development")
if MODE not in {"development", "production"}:
    raise ImproperlyConfigured("CARRYOVER_MODE must be 'development' or 'production'")
PRODUCTION = MODE == "production"

# Where the embedded default keeps its SQLite file and generated secret.
VAR_DIR = Path(os.environ.get("CARRYOVER_VAR_DIR", Path.cwd() / "var")).resolve()

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    # A debug server shows settings, SQL and every local variable on an error page, and
    # keeps every query in memory: never what a school's children should be served by.
    raise ImproperlyConfigured(
        "DEBUG must be off in production (CARRYOVER_MODE=production): unset DEBUG or set "
        "DEBUG=0. To debug, run the development mode on a copy of the data instead."
    )


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required in production")
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()


def _field_keys() -> list[str]:
    """CARRYOVER_FIELD_KEYS: Fernet keys (comma-separated) that encrypt the secrets stored
    in the database; the first encrypts, all decrypt. Empty: carryover/encryption.py
    derives one from SECRET_KEY (which production requires)."""
    keys = [k.strip() for k in (env_str("CARRYOVER_FIELD_KEYS") or "").split(",") if k.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            ok = len(base64.urlsafe_b64decode(key.encode())) == 32
        except ValueError:
            ok = False
        if not ok:
            raise ImproperlyConfigured(
                f"CARRYOVER_FIELD_KEYS: key {position} is not a Fernet key (32 url-safe "
                "base64 bytes; make one with `python -c 'from cryptography.fernet import "
                "Fernet; print(Fernet.generate_key().decode())'`)"
            )
    return keys


CARRYOVER_FIELD_KEYS = _field_keys()

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "carryover.jsonapi.csrf_failure"

INSTALLED_APPS = [
    # Django's admin, for developers only (superusers, through the product's sign-in).
    "carryover.adminsite.DeveloperAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "hijack",
    "csp",
    # Before django_tasks_db: its `db_worker` command is ours (the worker's heartbeat and
    # the sweep of stale jobs around django-tasks-db's own worker loop).
    "carryover.jobs",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "carryover.accounts",
    "carryover.progress",
    "carryover.audit",
    "carryover.merging",
    "carryover.rostering",
    "carryover.sso",
    "carryover.sandbox",
    "carryover.console",
    "carryover.planb",
    "carryover.uploads",
    "carryover.web",
    "carryover.ops",
]

MIDDLEWARE = [
    # First: everything after it (limits, audit rows, logs) sees the client's address.
    "carryover.ops.proxy.TrustedProxyMiddleware",
    # A request id for every log line, and the access log line.
    "carryover.ops.requestlog.RequestIdMiddleware",
    # /healthz and /readyz, before the HTTPS redirect and the Host check.
    "carryover.ops.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "hijack.middleware.HijackUserMiddleware",
    # Who is signed in (id and role) for the log lines and error reports of the request.
    "carryover.ops.requestlog.UserContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The Content-Security-Policy header (below).
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "carryover.urls"
WSGI_APPLICATION = "carryover.wsgi.application"
ASGI_APPLICATION = "carryover.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- database -----------------------------------------------------------------
_default_sqlite = f"sqlite:///{VAR_DIR / 'carryover.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL") or _default_sqlite
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if not env_str("DATABASE_URL"):
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Writers take the lock when the transaction starts, so two writers serialise
    # instead of one failing with "database is locked" on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- client address behind proxies -------------------------------------------------
# The proxies (addresses or CIDRs) whose X-Forwarded-For is believed: the client is the
# right-most address in it that is not one of them. Empty (the default): the header is
# ignored and the connection's own address counts (carryover/ops/proxy.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
_check_trusted_proxies(TRUSTED_PROXIES)

# --- cache (rate limits) ----------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL is required in production (CARRYOVER_MODE=production): without a shared "
        "cache every gunicorn worker keeps its own, so the sign-in and Get Records attempt "
        "limits and the sign-on code-replay guard only hold per process. Set "
        "REDIS_URL=redis://host:6379/0."
    )
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "carryover"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "carryover.accounts.backends.LegacyStudentBackend",
    "carryover.accounts.backends.EmailBackend",
]
LOGIN_URL = "web:sign_in"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:sign_in"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Teachers sign in as their students (Get Records on the student's behalf).
HIJACK_PERMISSION_CHECK = "carryover.accounts.permissions.can_teacher_impersonate"
HIJACK_INSERT_BEFORE = None  # the banner is our own template, not hijack's injected one

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)

# --- i18n ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# Uploaded files (roster zips, Plan B files): shared by every web process and worker on
# every machine, never on a local disk (carryover/uploads). In the database unless
# UPLOADS_S3_BUCKET names an S3-compatible bucket (django-storages).
UPLOADS_RETENTION_DAYS = env_int("UPLOADS_RETENTION_DAYS", 7)
if UPLOADS_RETENTION_DAYS < 0:
    raise ImproperlyConfigured(
        f"UPLOADS_RETENTION_DAYS must be 0 or more, got {UPLOADS_RETENTION_DAYS}"
    )
UPLOADS_S3_BUCKET = env_str("UPLOADS_S3_BUCKET") or ""
if UPLOADS_S3_BUCKET:
    _uploads_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": UPLOADS_S3_BUCKET,
            "location": (env_str("UPLOADS_S3_PREFIX") or "uploads").strip("/"),
            "endpoint_url": env_str("UPLOADS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("UPLOADS_S3_REGION") or None,
            # Empty: boto3's own chain (an instance role, AWS_* variables, ~/.aws).
            "access_key": env_str("UPLOADS_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("UPLOADS_S3_SECRET_ACCESS_KEY") or None,
            "addressing_style": env_str("UPLOADS_S3_ADDRESSING_STYLE") or None,
            # Children's names: private objects, never a public or signed URL.
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "object_parameters": (
                {"ServerSideEncryption": env_str("UPLOADS_S3_SERVER_SIDE_ENCRYPTION")}
                if env_str("UPLOADS_S3_SERVER_SIDE_ENCRYPTION")
                else {}
            ),
        },
    }
else:
    _uploads_storage = {"BACKEND": "carryover.uploads.storage.DatabaseStorage"}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "uploads": _uploads_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- security (production) -------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Content-Security-Policy (django-csp) --------------------------------------------
# Scripts and styles only from our own static files: no inline <script>, no style="..."
# attributes, no eval, so an injected tag runs nothing. Forms post only to us; sign-on
# leaves by a link (a GET), so the providers are never a form's target. Pages are never
# framed (the clickjacking header says the same to older browsers).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- logs and error reports --------------------------------------------------------
# One JSON object per line on stderr (carryover/ops/logs.py); development prints plain
# text unless LOG_FORMAT=json.
LOG_LEVEL = (env_str("LOG_LEVEL") or "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT") or ("json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'text', got {LOG_FORMAT!r}")
LOGGING = _logging_config(LOG_LEVEL, LOG_FORMAT)

# Errors go to Sentry when SENTRY_DSN is set, personal data scrubbed (carryover/ops/sentry.py).
SENTRY_DSN = env_str("SENTRY_DSN") or ""
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT") or MODE
SENTRY_TRACES_SAMPLE_RATE = float(env_str("SENTRY_TRACES_SAMPLE_RATE") or 0)
if SENTRY_DSN:
    from carryover.ops.sentry import init as _sentry_init

    _sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

# --- product rules ----------------------------------------------------------------
# How far in the future a practice client's clock may run before we refuse a record.
PRACTICE_CLOCK_SKEW_SECONDS = env_int("PRACTICE_CLOCK_SKEW_SECONDS", 300)
# Get Records failures allowed per client address per 15 minutes. A classroom shares one
# address behind the school's NAT, so this is far above the per-student limit (5).
GET_RECORDS_IP_FAILURES_PER_15_MIN = env_int("GET_RECORDS_IP_FAILURES_PER_15_MIN", 100)
# Failed sign-ins allowed per typed identity (account number + username, or email) and
# per client address, per 15 minutes, before sign-in is refused without checking a
# password. The address limit is high for the same NAT reason as above.
SIGN_IN_FAILURES_PER_15_MIN = env_int("SIGN_IN_FAILURES_PER_15_MIN", 10)
SIGN_IN_IP_FAILURES_PER_15_MIN = env_int("SIGN_IN_IP_FAILURES_PER_15_MIN", 200)
# How long a Get Records preview stays confirmable without typing the details again.
GET_RECORDS_CONFIRM_SECONDS = env_int("GET_RECORDS_CONFIRM_SECONDS", 600)

# --- roster sync ------------------------------------------------------------------
# Background jobs (roster syncs) go through django-tasks. The database backend needs
# no broker: `carryover db_worker` runs them. TASKS_BACKEND swaps the backend class.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND") or "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# The one stale window of every background job (roster syncs, Plan B matching and
# merges; carryover/jobs/runner.py): a run whose heartbeat is older than this is taken
# for dead and marked failed, and a queued one whose task can no longer run it too.
JOBS_STALE_SECONDS = env_int("JOBS_STALE_SECONDS", 600)
if JOBS_STALE_SECONDS < 30:
    raise ImproperlyConfigured(
        f"JOBS_STALE_SECONDS must be at least 30 (a live run writes its heartbeat at most "
        f"twice a second, but may be quiet for a while between steps), got {JOBS_STALE_SECONDS}"
    )
# The guard: a sync that would archive more than this share of an account's people,
# sections or enrollments, or update more than the second share, waits for a person.
ROSTER_GUARD_MAX_ARCHIVE_SHARE = float(env_str("ROSTER_GUARD_MAX_ARCHIVE_SHARE") or 0.10)
ROSTER_GUARD_MAX_UPDATE_SHARE = float(env_str("ROSTER_GUARD_MAX_UPDATE_SHARE") or 0.75)
# After SSO go-live the old hand-made accounts stay this many days as temporary seats.
ROSTER_TEMPORARY_SEAT_DAYS = env_int("ROSTER_TEMPORARY_SEAT_DAYS", 60)
# Seconds for one HTTP request to Clever or a OneRoster server (connect, read).
ROSTER_HTTP_TIMEOUT = float(env_str("ROSTER_HTTP_TIMEOUT") or 30)
# A 429 or 5xx from Clever or a OneRoster server is sent again this many times, after an
# exponential backoff with jitter from this base, or after the Retry-After it asks for
# when that is at most the third value (seconds); then the sync fails naming the request.
PROVIDER_HTTP_RETRIES = env_int("PROVIDER_HTTP_RETRIES", 4)
PROVIDER_HTTP_BACKOFF_SECONDS = float(env_str("PROVIDER_HTTP_BACKOFF_SECONDS") or 1.0)
PROVIDER_HTTP_RETRY_AFTER_MAX = float(env_str("PROVIDER_HTTP_RETRY_AFTER_MAX") or 120)
# Plan B: a logins file of at most this many rows is matched in the upload request;
# a larger one (a district's) is matched by the background worker, past proxy timeouts.
PLAN_B_MATCH_IN_REQUEST_ROWS = env_int("PLAN_B_MATCH_IN_REQUEST_ROWS", 2000)
# ... and so is every file of an account with more rostered students than this (the
# roster's size, not the file's, is what a class's upload in a district waits for).
PLAN_B_MATCH_IN_REQUEST_ROSTER = env_int("PLAN_B_MATCH_IN_REQUEST_ROSTER", 20000)


# --- sign-on (Clever, ClassLink) and the provider sandboxes --------------------------
# Owned by carryover/sso and carryover/sandbox. The sandboxes are local stand-ins of
# Clever and ClassLink (their OAuth servers and data APIs) for the demo and the tests.
# They sign anyone in, so production refuses to start with them on.
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", default=not PRODUCTION)
if PRODUCTION and SANDBOX_ENABLED:
    raise ImproperlyConfigured(
        "SANDBOX_ENABLED must be off in production: the provider sandboxes sign anyone in."
    )
# The public origin of this service (https://carryover.example.org). Redirect URIs are
# built from it when set, otherwise from the request; either way they are compared exactly.
SITE_URL = (env_str("SITE_URL") or "").rstrip("/")
# Where the sandboxes answer when they stand in for the providers (development defaults).
SANDBOX_BASE_URL = (env_str("SANDBOX_BASE_URL") or "http://127.0.0.1:8000/sandbox").rstrip("/")
SANDBOX_CLEVER_DATA = env_str("SANDBOX_CLEVER_DATA") or str(
    PACKAGE_DIR / "sandbox" / "data" / "clever_demo.json"
)
SANDBOX_CLASSLINK_DATA = env_str("SANDBOX_CLASSLINK_DATA") or str(
    PACKAGE_DIR / "sandbox" / "data" / "classlink_demo"
)
SANDBOX_CLEVER_CLIENT_ID = env_str("SANDBOX_CLEVER_CLIENT_ID") or "sandbox-clever-client"
SANDBOX_CLEVER_CLIENT_SECRET = env_str("SANDBOX_CLEVER_CLIENT_SECRET") or "sandbox-clever-secret"
SANDBOX_CLEVER_DISTRICT_TOKEN = (
    env_str("SANDBOX_CLEVER_DISTRICT_TOKEN") or "sandbox-clever-district-token"
)
SANDBOX_CLASSLINK_CLIENT_ID = env_str("SANDBOX_CLASSLINK_CLIENT_ID") or "sandbox-classlink-client"
SANDBOX_CLASSLINK_CLIENT_SECRET = (
    env_str("SANDBOX_CLASSLINK_CLIENT_SECRET") or "sandbox-classlink-secret"
)
SANDBOX_CLASSLINK_TENANT_ID = env_str("SANDBOX_CLASSLINK_TENANT_ID") or "4242"
SANDBOX_ONEROSTER_KEY = env_str("SANDBOX_ONEROSTER_KEY") or "sandbox-oneroster-key"
SANDBOX_ONEROSTER_SECRET = env_str("SANDBOX_ONEROSTER_SECRET") or "sandbox-oneroster-secret"
# Lifetime of the OneRoster 1.2 sandbox's client-credentials access tokens.
SANDBOX_ONEROSTER_TOKEN_SECONDS = env_int("SANDBOX_ONEROSTER_TOKEN_SECONDS", 3600)
# PEM of the RSA key the sandboxes sign id_tokens with; generated into VAR_DIR when empty.
SANDBOX_SIGNING_KEY = env_str("SANDBOX_SIGNING_KEY") or ""
# Redirect URIs the sandbox clients accept; empty: this server's own /sso/*/callback.
SANDBOX_REDIRECT_URIS = env_list("SANDBOX_REDIRECT_URIS", [])

# The providers. Every URL is a setting, so the sandboxes and the real services are the
# same code path; with the sandbox on, the defaults point at it.
CLEVER_CLIENT_ID = env_str("CLEVER_CLIENT_ID") or (
    SANDBOX_CLEVER_CLIENT_ID if SANDBOX_ENABLED else ""
)
CLEVER_CLIENT_SECRET = env_str("CLEVER_CLIENT_SECRET") or (
    SANDBOX_CLEVER_CLIENT_SECRET if SANDBOX_ENABLED else ""
)
CLEVER_AUTH_BASE = (
    env_str("CLEVER_AUTH_BASE")
    or (f"{SANDBOX_BASE_URL}/clever" if SANDBOX_ENABLED else "https://clever.com")
).rstrip("/")
CLEVER_API_BASE = (
    env_str("CLEVER_API_BASE")
    or (f"{SANDBOX_BASE_URL}/clever" if SANDBOX_ENABLED else "https://api.clever.com")
).rstrip("/")
# The id_token issuer; its discovery document names the JWKS unless CLEVER_JWKS_URL is set.
CLEVER_ISSUER = (env_str("CLEVER_ISSUER") or CLEVER_AUTH_BASE).rstrip("/")
CLEVER_JWKS_URL = env_str("CLEVER_JWKS_URL") or ""

CLASSLINK_CLIENT_ID = env_str("CLASSLINK_CLIENT_ID") or (
    SANDBOX_CLASSLINK_CLIENT_ID if SANDBOX_ENABLED else ""
)
CLASSLINK_CLIENT_SECRET = env_str("CLASSLINK_CLIENT_SECRET") or (
    SANDBOX_CLASSLINK_CLIENT_SECRET if SANDBOX_ENABLED else ""
)
CLASSLINK_AUTH_BASE = (
    env_str("CLASSLINK_AUTH_BASE")
    or (f"{SANDBOX_BASE_URL}/classlink" if SANDBOX_ENABLED else "https://launchpad.classlink.com")
).rstrip("/")
CLASSLINK_API_BASE = (
    env_str("CLASSLINK_API_BASE")
    or (f"{SANDBOX_BASE_URL}/classlink" if SANDBOX_ENABLED else "https://nodeapi.classlink.com")
).rstrip("/")
CLASSLINK_ISSUER = (env_str("CLASSLINK_ISSUER") or CLASSLINK_AUTH_BASE).rstrip("/")
CLASSLINK_JWKS_URL = env_str("CLASSLINK_JWKS_URL") or ""
CLASSLINK_SCOPE = env_str("CLASSLINK_SCOPE") or "openid profile oneroster"

# Seconds for one sign-on HTTP request (token, profile, JWKS) to a provider.
SSO_HTTP_TIMEOUT = float(env_str("SSO_HTTP_TIMEOUT") or 10)
# The same for the sign-on calls (token, profile, JWKS); a child is waiting, so fewer and
# shorter waits.
SSO_HTTP_RETRIES = env_int("SSO_HTTP_RETRIES", 2)
SSO_HTTP_BACKOFF_SECONDS = float(env_str("SSO_HTTP_BACKOFF_SECONDS") or 0.25)
SSO_HTTP_RETRY_AFTER_MAX = float(env_str("SSO_HTTP_RETRY_AFTER_MAX") or 3)
# How long a started sign-in may take before its state expires (seconds).
SSO_STATE_MAX_AGE = env_int("SSO_STATE_MAX_AGE", 600)
AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "carryover.sso.backends.SignOnBackend"]


# --- sign-in, second factor, password resets, support staff ------------------------------
# Owned by carryover/accounts (signin.py, twofactor.py, passwords.py, staff.py).
# A passcode try reserved on an old account (before its hash runs) that is never
# settled, because its request was killed, lapses after this many seconds.
PASSCODE_TRY_RESERVATION_SECONDS = env_int("PASSCODE_TRY_RESERVATION_SECONDS", 60)
# A teacher signed in as a student runs Get Records under their own limit (not the
# child's): failed tries per teacher per 15 minutes and per day.
GET_RECORDS_TEACHER_FAILURES_PER_15_MIN = env_int("GET_RECORDS_TEACHER_FAILURES_PER_15_MIN", 20)
GET_RECORDS_TEACHER_FAILURES_PER_DAY = env_int("GET_RECORDS_TEACHER_FAILURES_PER_DAY", 100)
# Staff who sign in with a password give a second factor (TOTP) too. On in production;
# off by default in development, the demo and the tests.
STAFF_SECOND_FACTOR = env_bool("STAFF_SECOND_FACTOR", PRODUCTION)
# How long the password step waits for the second factor; wrong codes per person.
SECOND_FACTOR_PENDING_SECONDS = env_int("SECOND_FACTOR_PENDING_SECONDS", 300)
SECOND_FACTOR_FAILURES_PER_15_MIN = env_int("SECOND_FACTOR_FAILURES_PER_15_MIN", 5)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER") or "carryover"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a second factor's key
# Django's admin (/admin/) is for developers (superusers). Off in production unless
# this is set; its login is the product's sign-in either way.
DJANGO_ADMIN_ENABLED = env_bool("DJANGO_ADMIN_ENABLED", not PRODUCTION)
# "Forgot your password?": requests per typed email and per client address, per hour.
PASSWORD_RESET_PER_EMAIL_PER_HOUR = env_int("PASSWORD_RESET_PER_EMAIL_PER_HOUR", 3)
PASSWORD_RESET_IP_PER_HOUR = env_int("PASSWORD_RESET_IP_PER_HOUR", 20)
# How long a reset (or a new support person's set-password) link works, in seconds.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24)

# Email (password reset links). The demo and development print messages on the console;
# production sends through SMTP (EMAIL_HOST and friends, as Django names them).
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION or env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env_str("EMAIL_HOST") or "localhost"
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # TLS from the start (port 465)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)  # STARTTLS (port 587)
EMAIL_PORT = env_int("EMAIL_PORT", 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "carryover <no-reply@carryover.invalid>"
