"""Modelhub settings: one module, driven by environment variables (see README "Configuration").

With nothing set, everything is embedded: SQLite and local file storage under ./var, and a
file-system Celery broker, so the product runs on a fresh machine without any service.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from registry.identities.group_map import group_map_parse
from registry.kernel.lib.env import envbool, envint, envlist, envsize, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(envstr("MODELHUB_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _generated_secret(env_name: str, filename: str, length: int) -> str:
    # Production passes the variable; a local install keeps a generated value in var/ so it
    # survives restarts (sessions, the runtime's shared secret) without anybody having to invent one.
    value = envstr(env_name)
    if value:
        return value
    path = DATA_DIR / filename
    if not path.exists():
        path.write_text(secrets.token_urlsafe(length))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _generated_secret("DJANGO_SECRET_KEY", "secret_key", 50)
DEBUG = envbool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])
_BEHIND_TLS = envbool("MODELHUB_BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _BEHIND_TLS else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("MODELHUB_SECURE_COOKIES", _BEHIND_TLS)
# Behind TLS: browsers are told to use HTTPS only (HSTS, sent on HTTPS answers) and plain HTTP is redirected, but
# for the probes and the scrape a load balancer makes over plain HTTP.
SECURE_HSTS_SECONDS = envint("MODELHUB_HSTS_SECONDS", 31_536_000 if _BEHIND_TLS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("MODELHUB_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("MODELHUB_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = envbool("MODELHUB_SSL_REDIRECT", _BEHIND_TLS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
X_FRAME_OPTIONS = "DENY"
# The portal's Content-Security-Policy (marketplace.middleware.SecurityHeadersMiddleware): scripts only from the
# portal's own static files, never inline; no frames, plugins or foreign forms. Inline style attributes stay allowed
# (the charts and htmx set some).
MODELHUB_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "marketplace",
    "registry",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "marketplace.middleware.SecurityHeadersMiddleware",
    "marketplace.middleware.RequestIdMiddleware",
    "marketplace.middleware.RejectUnstorableTextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "marketplace.middleware.StatementTimeoutMiddleware",
    "marketplace.middleware.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",
]
# Sign-in attempts (the portal and the admin) are counted per account and per address by django-axes: after
# MODELHUB_SIGNIN_FAILURE_LIMIT failures either is locked out for MODELHUB_SIGNIN_LOCKOUT_SECONDS (a 429 page), and
# the lockout is audited (marketplace/pages/accounts.py). A correct password resets the account's count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "marketplace.pages.accounts.PeopleBackend"]
AXES_FAILURE_LIMIT = envint("MODELHUB_SIGNIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(seconds=envint("MODELHUB_SIGNIN_LOCKOUT_SECONDS", 900, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "marketplace.pages.accounts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "marketplace.api.throttles.client_address"
AXES_VERBOSE = False

# Single sign-on with an OpenID Connect provider (marketplace/pages/sso.py, registry/identities/oidc.py), on when
# MODELHUB_OIDC_ISSUER is set: authorization code flow with PKCE, state and nonce; users made on first sign-in.
# With MODELHUB_OIDC_GROUPS_CLAIM, the provider's groups decide the memberships MODELHUB_OIDC_GROUP_MAP names
# (registry/identities/group_map.py); otherwise memberships are managed in Modelhub. With
# MODELHUB_OIDC_API_AUDIENCE, the API also takes the provider's JWT access tokens issued for that audience.
MODELHUB_OIDC_ISSUER = envstr("MODELHUB_OIDC_ISSUER", "").rstrip("/")
MODELHUB_OIDC_CLIENT_ID = envstr("MODELHUB_OIDC_CLIENT_ID", "")
MODELHUB_OIDC_CLIENT_SECRET = envstr("MODELHUB_OIDC_CLIENT_SECRET", "")
MODELHUB_OIDC_SCOPES = envstr("MODELHUB_OIDC_SCOPES", "openid email profile")
MODELHUB_OIDC_NAME = envstr("MODELHUB_OIDC_NAME", "single sign-on")
MODELHUB_OIDC_USERNAME_CLAIM = envstr("MODELHUB_OIDC_USERNAME_CLAIM", "preferred_username")
MODELHUB_OIDC_GROUPS_CLAIM = envstr("MODELHUB_OIDC_GROUPS_CLAIM", "")
try:
    MODELHUB_OIDC_GROUP_MAP = group_map_parse(envstr("MODELHUB_OIDC_GROUP_MAP", ""))
except ValueError as exc:
    raise ImproperlyConfigured(f"MODELHUB_OIDC_GROUP_MAP: {exc}") from None
MODELHUB_OIDC_API_AUDIENCE = envstr("MODELHUB_OIDC_API_AUDIENCE", "")
if MODELHUB_OIDC_ISSUER and not (MODELHUB_OIDC_CLIENT_ID and MODELHUB_OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured("MODELHUB_OIDC_ISSUER needs MODELHUB_OIDC_CLIENT_ID and MODELHUB_OIDC_CLIENT_SECRET")
# Off: the sign-in page offers single sign-on only and refuses passwords (the admin too).
MODELHUB_PASSWORD_SIGNIN = envbool("MODELHUB_PASSWORD_SIGNIN", True)
if not MODELHUB_PASSWORD_SIGNIN and not MODELHUB_OIDC_ISSUER:
    raise ImproperlyConfigured("MODELHUB_PASSWORD_SIGNIN=false needs MODELHUB_OIDC_ISSUER: nobody could sign in")

ROOT_URLCONF = "marketplace.urls"
# The portal signs people in with Django sessions; the API keeps its token auth (and accepts the session).
LOGIN_URL = "pages:signin"
LOGIN_REDIRECT_URL = "pages:home"
LOGOUT_REDIRECT_URL = "pages:signin"
WSGI_APPLICATION = "marketplace.wsgi.application"
ASGI_APPLICATION = "marketplace.asgi.application"

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
            "libraries": {"portal": "marketplace.pages.templatetags"},
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{DATA_DIR / 'modelhub.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker share the file: wait for the write lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Catalogue search: "postgres", "memory" (PostgreSQL, with an in-memory index per process) or "fallback"; empty
# picks by database (PostgreSQL: postgres; else fallback).
MODELHUB_SEARCH_BACKEND = envstr("MODELHUB_SEARCH_BACKEND", "")
if MODELHUB_SEARCH_BACKEND not in ("", "postgres", "memory", "fallback"):
    raise ImproperlyConfigured("MODELHUB_SEARCH_BACKEND: use postgres, memory, fallback or leave it empty.")
if (
    MODELHUB_SEARCH_BACKEND in ("postgres", "memory")
    and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
):
    raise ImproperlyConfigured(f"MODELHUB_SEARCH_BACKEND: {MODELHUB_SEARCH_BACKEND} needs a PostgreSQL DATABASE_URL.")
# Longest SQL statement a web request may run (PostgreSQL); 0 turns the bound off.
MODELHUB_WEB_STATEMENT_TIMEOUT_MS = envint("MODELHUB_WEB_STATEMENT_TIMEOUT_MS", 10_000, minimum=0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("MODELHUB_STATIC_ROOT", str(DATA_DIR / "static")))  # the image collects into /app
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

S3_BUCKET = envstr("MODELHUB_S3_BUCKET")
S3_PREFIX = envstr("MODELHUB_S3_PREFIX", "").strip("/")
if S3_BUCKET:
    if len(S3_BUCKET) < 3:
        raise ImproperlyConfigured("MODELHUB_S3_BUCKET must be at least 3 characters long")
    _artifacts_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "location": S3_PREFIX,
            "endpoint_url": envstr("MODELHUB_S3_ENDPOINT_URL") or None,
            "region_name": envstr("MODELHUB_S3_REGION") or None,
            "access_key": envstr("MODELHUB_S3_ACCESS_KEY_ID") or None,
            "secret_key": envstr("MODELHUB_S3_SECRET_ACCESS_KEY") or None,
            "querystring_auth": True,
            "querystring_expire": envint("MODELHUB_DOWNLOAD_URL_TTL", 300, minimum=1),
            "file_overwrite": True,
            "default_acl": None,
            "signature_version": "s3v4",
            "addressing_style": envstr("MODELHUB_S3_ADDRESSING_STYLE") or None,
        },
    }
else:
    _artifacts_storage = {
        "BACKEND": "registry.artifacts.storage.AtomicFileSystemStorage",
        "OPTIONS": {"location": envstr("MODELHUB_ARTIFACTS_DIR", str(DATA_DIR / "artifacts"))},
    }

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Content-addressed blobs of every version's files.
    "artifacts": _artifacts_storage,
}

# Uploads stream to disk chunk by chunk; the request body is never held whole in memory.
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
MODELHUB_MAX_UPLOAD_SIZE = envsize("MODELHUB_MAX_UPLOAD_SIZE", 2 * 1024**3)
MODELHUB_ARCHIVE_MAX_RATIO = float(envint("MODELHUB_ARCHIVE_MAX_RATIO", 200, minimum=2))
MODELHUB_ARCHIVE_MAX_MEMBERS = envint("MODELHUB_ARCHIVE_MAX_MEMBERS", 1000, minimum=1)
MODELHUB_METADATA_MAX_BYTES = envsize("MODELHUB_METADATA_MAX_BYTES", 64 * 1024)
# A version's input example (registry.examples): its file or body, and its decoded arrays, at most this.
MODELHUB_INPUT_EXAMPLE_MAX_BYTES = envsize("MODELHUB_INPUT_EXAMPLE_MAX_BYTES", 4 * 1024**2)
MODELHUB_DOWNLOAD_URL_TTL = envint("MODELHUB_DOWNLOAD_URL_TTL", 300, minimum=1)
# Resumable upload sessions (registry.uploads): one file of up to MODELHUB_UPLOAD_SESSION_MAX_SIZE in parts of
# MODELHUB_UPLOAD_PART_SIZE (larger when 10,000 parts would not hold the file; S3 takes 5 MiB at least); a
# session untouched for MODELHUB_UPLOAD_SESSION_TTL seconds is deleted with what it staged.
MODELHUB_UPLOAD_SESSION_MAX_SIZE = envsize("MODELHUB_UPLOAD_SESSION_MAX_SIZE", 5 * 1024**4)
MODELHUB_UPLOAD_PART_SIZE = envsize("MODELHUB_UPLOAD_PART_SIZE", 64 * 1024**2)
MODELHUB_UPLOAD_SESSION_TTL = envint("MODELHUB_UPLOAD_SESSION_TTL", 86_400, minimum=60)
MODELHUB_UPLOAD_PART_URL_TTL = envint("MODELHUB_UPLOAD_PART_URL_TTL", 3600, minimum=60)
# Per team, at most this many upload sessions not yet taken by a version, declaring at most this many bytes
# in all (409 team_limit beyond either): one team's pipeline cannot fill the staging disk or bucket.
MODELHUB_TEAM_MAX_UPLOAD_SESSIONS = envint("MODELHUB_TEAM_MAX_UPLOAD_SESSIONS", 200, minimum=1)
MODELHUB_TEAM_MAX_UPLOAD_BYTES = envsize("MODELHUB_TEAM_MAX_UPLOAD_BYTES", 10 * 1024**4)

# --- Validation -----------------------------------------------------------------------------
# A pickle-based model file (PyTorch, joblib, .pkl) whose static scan finds imports that run code when unpickled is
# invalid; set this to catalogue such files anyway (they are never loaded, and never deployable).
MODELHUB_ALLOW_UNSAFE_PICKLES = envbool("MODELHUB_ALLOW_UNSAFE_PICKLES", False)
MODELHUB_VALIDATION_TIME_LIMIT = envint("MODELHUB_VALIDATION_TIME_LIMIT", 1800, minimum=10)
MODELHUB_VALIDATION_MAX_ATTEMPTS = envint("MODELHUB_VALIDATION_MAX_ATTEMPTS", 3, minimum=1)
MODELHUB_VALIDATION_RETRY_DELAY = envint("MODELHUB_VALIDATION_RETRY_DELAY", 10, minimum=0)
MODELHUB_STORAGE_MAX_RETRIES = envint("MODELHUB_STORAGE_MAX_RETRIES", 5, minimum=0)
# The sandbox that checks uploads (registry.validation.sandbox): its address space (at least three
# times the version's size), and the wall clock of the smoke inference.
MODELHUB_VALIDATION_MAX_MEMORY = envsize("MODELHUB_VALIDATION_MAX_MEMORY", 4 * 1024**3)
MODELHUB_SMOKE_TIME_LIMIT = envint("MODELHUB_SMOKE_TIME_LIMIT", 30, minimum=1)

# --- Signed approvals -------------------------------------------------------------------------
# The organisation's EC private key (PEM text), or a file holding it. Without either, a key is
# generated once at the default path (embedded installs); with the file named, it must exist.
MODELHUB_SIGNING_KEY = envstr("MODELHUB_SIGNING_KEY", from_file=False)  # its _FILE is the key's path, below
MODELHUB_SIGNING_KEY_FILE = envstr("MODELHUB_SIGNING_KEY_FILE") or str(DATA_DIR / "signing-key.pem")
MODELHUB_SIGNING_KEY_GENERATE = not envstr("MODELHUB_SIGNING_KEY_FILE")
# The keyring's private keys, one <key_id>.pem each (registry/governance/keystore.py); the key above is registered
# as the first active key, and `manage.py signingkey` adds and rotates the others.
MODELHUB_SIGNING_KEYS_DIR = envstr("MODELHUB_SIGNING_KEYS_DIR") or str(DATA_DIR / "signing-keys")

# --- Notifications ---------------------------------------------------------------------------
# Key material for the webhook secrets at rest (HKDF -> Fernet); SECRET_KEY when unset. Changing it
# makes existing webhook secrets unreadable (their deliveries fail until the webhook is recreated).
MODELHUB_WEBHOOK_KEY = envstr("MODELHUB_WEBHOOK_KEY")
# Deliver to private, loopback and link-local addresses too (a local receiver, the tests). Off in
# production: a webhook URL must not reach the internal network (SSRF).
MODELHUB_WEBHOOK_ALLOW_PRIVATE = envbool("MODELHUB_WEBHOOK_ALLOW_PRIVATE", DEBUG)
MODELHUB_WEBHOOK_MAX_ATTEMPTS = envint("MODELHUB_WEBHOOK_MAX_ATTEMPTS", 6, minimum=1)
MODELHUB_WEBHOOK_RETRY_DELAY = envint("MODELHUB_WEBHOOK_RETRY_DELAY", 10, minimum=0)
MODELHUB_EMAIL_MAX_ATTEMPTS = envint("MODELHUB_EMAIL_MAX_ATTEMPTS", 5, minimum=1)
EMAIL_BACKEND = envstr("MODELHUB_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = envstr("MODELHUB_EMAIL_FROM", "Modelhub <modelhub@localhost>")
EMAIL_HOST = envstr("MODELHUB_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("MODELHUB_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = envstr("MODELHUB_EMAIL_USER")
EMAIL_HOST_PASSWORD = envstr("MODELHUB_EMAIL_PASSWORD")
EMAIL_USE_TLS = envbool("MODELHUB_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("MODELHUB_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("MODELHUB_EMAIL_TIMEOUT", 10, minimum=1)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set at most one of MODELHUB_EMAIL_USE_TLS and MODELHUB_EMAIL_USE_SSL")

# --- Inference endpoints ----------------------------------------------------------------------
# The inference runtime (registry.runtime, the V2 protocol): where the portal drives it, the URL clients
# call, the shared secret of its repository API and of /api/v1/internal/runtime/authorize, and the folder
# (shared with the runtime) where endpoint files are materialized.
MODELHUB_RUNTIME_URL = envstr("MODELHUB_RUNTIME_URL", "http://127.0.0.1:8081").rstrip("/")
MODELHUB_RUNTIME_PUBLIC_URL = envstr("MODELHUB_RUNTIME_PUBLIC_URL", MODELHUB_RUNTIME_URL).rstrip("/")


MODELHUB_RUNTIME_SECRET = _generated_secret("MODELHUB_RUNTIME_SECRET", "runtime_secret", 32)
MODELHUB_RUNTIME_MODELS_DIR = envstr("MODELHUB_RUNTIME_MODELS_DIR", str(DATA_DIR / "runtime-models"))
MODELHUB_RUNTIME_TIMEOUT = envint("MODELHUB_RUNTIME_TIMEOUT", 120, minimum=1)
MODELHUB_ENDPOINT_BACKEND = envstr("MODELHUB_ENDPOINT_BACKEND", "local")
if MODELHUB_ENDPOINT_BACKEND not in ("local", "kubernetes"):
    raise ImproperlyConfigured("MODELHUB_ENDPOINT_BACKEND is 'local' or 'kubernetes'")
# Endpoints a team may have (any status but deleted); creating more is a 409 team_limit.
MODELHUB_TEAM_MAX_ENDPOINTS = envint("MODELHUB_TEAM_MAX_ENDPOINTS", 50, minimum=1)
MODELHUB_ENDPOINT_MAX_ATTEMPTS = envint("MODELHUB_ENDPOINT_MAX_ATTEMPTS", 3, minimum=1)
MODELHUB_ENDPOINT_MAX_RETRIES = envint("MODELHUB_ENDPOINT_MAX_RETRIES", 5, minimum=0)
MODELHUB_ENDPOINT_RETRY_DELAY = envint("MODELHUB_ENDPOINT_RETRY_DELAY", 5, minimum=0)
MODELHUB_ENDPOINT_TIME_LIMIT = envint("MODELHUB_ENDPOINT_TIME_LIMIT", 900, minimum=10)
# The kubernetes backend: namespace, the runtime's container image, and the kubeconfig (in-cluster when unset).
MODELHUB_KUBERNETES_NAMESPACE = envstr("MODELHUB_KUBERNETES_NAMESPACE", "modelhub")
MODELHUB_KUBERNETES_CONFIG = envstr("MODELHUB_KUBERNETES_CONFIG")
# The Kubernetes Secret (key `secret`) holding MODELHUB_RUNTIME_SECRET's value for runtime pods, and the
# portal's URL as those pods reach it (they ask it about credentials).
MODELHUB_KUBERNETES_RUNTIME_SECRET = envstr("MODELHUB_KUBERNETES_RUNTIME_SECRET", "modelhub-runtime")
MODELHUB_PORTAL_URL = envstr("MODELHUB_PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")
MODELHUB_RUNTIME_IMAGE = envstr("MODELHUB_RUNTIME_IMAGE", "modelhub/runtime:latest")
MODELHUB_KUBERNETES_READY_TIMEOUT = envint("MODELHUB_KUBERNETES_READY_TIMEOUT", 600, minimum=1)
# Monitoring (registry/monitoring): how often endpoints are evaluated, how long minute windows are kept before
# they are rolled up into hours, and how long sampled predictions and ground truth are kept.
MODELHUB_MONITORING_INTERVAL = envint("MODELHUB_MONITORING_INTERVAL", 60, minimum=1)
MODELHUB_MONITORING_MINUTES_KEPT_HOURS = envint("MODELHUB_MONITORING_MINUTES_KEPT_HOURS", 24, minimum=1)
MODELHUB_MONITORING_RETENTION_DAYS = envint("MODELHUB_MONITORING_RETENTION_DAYS", 30, minimum=1)
# Prometheus scrapes the portal's /metrics (the monitoring gauges) with this bearer token; empty: staff only.
MODELHUB_METRICS_TOKEN = envstr("MODELHUB_METRICS_TOKEN")

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Otherwise kombu keeps its control exchange in ./control of whatever directory the worker runs in.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Redis re-delivers an unacknowledged message after this long; it must outlast a task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": MODELHUB_VALIDATION_TIME_LIMIT + 600}
CELERY_TASK_DEFAULT_QUEUE = envstr("CELERY_TASK_DEFAULT_QUEUE", "modelhub")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Claimed jobs (validation, provisioning) renew their claim every MODELHUB_HEARTBEAT_INTERVAL seconds; a claim
# whose last heartbeat is older than MODELHUB_CLAIM_LEASE belongs to a lost worker, and the recovery sweeps, every
# MODELHUB_RECOVERY_INTERVAL seconds, send its job again (registry/kernel/lib/leases.py). A job sent but not
# claimed for MODELHUB_UNCLAIMED_GRACE seconds (a message the broker lost) is sent again too.
MODELHUB_CLAIM_LEASE = envint("MODELHUB_CLAIM_LEASE", 30, minimum=5)
MODELHUB_HEARTBEAT_INTERVAL = envint("MODELHUB_HEARTBEAT_INTERVAL", 5, minimum=1)
if MODELHUB_HEARTBEAT_INTERVAL * 3 > MODELHUB_CLAIM_LEASE:
    raise ImproperlyConfigured("MODELHUB_CLAIM_LEASE must be at least three MODELHUB_HEARTBEAT_INTERVALs")
MODELHUB_RECOVERY_INTERVAL = envint("MODELHUB_RECOVERY_INTERVAL", 15, minimum=5)
MODELHUB_UNCLAIMED_GRACE = envint("MODELHUB_UNCLAIMED_GRACE", 120, minimum=10)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "recover-stalled-validations": {
        "task": "registry.validation.tasks.validations_recover_stalled_task",
        "schedule": MODELHUB_RECOVERY_INTERVAL,
    },
    "recover-missing-signatures": {
        "task": "registry.governance.tasks.signatures_recover_task",
        "schedule": MODELHUB_RECOVERY_INTERVAL,
    },
    "recover-stalled-endpoints": {
        "task": "registry.endpoints.tasks.endpoints_recover_task",
        "schedule": MODELHUB_RECOVERY_INTERVAL,
    },
    "recover-lost-webhook-deliveries": {
        "task": "registry.notifications.tasks.webhook_deliveries_recover_task",
        "schedule": MODELHUB_RECOVERY_INTERVAL,
    },
    "evaluate-endpoint-monitoring": {
        "task": "registry.monitoring.tasks.monitoring_evaluate_task",
        "schedule": MODELHUB_MONITORING_INTERVAL,
    },
    "roll-up-monitoring-windows": {
        "task": "registry.monitoring.tasks.monitoring_roll_up_task",
        "schedule": 3600,
    },
    "expire-upload-sessions": {
        "task": "registry.uploads.tasks.upload_sessions_expire_task",
        "schedule": MODELHUB_RECOVERY_INTERVAL * 40,
    },
    # Log rows live one to two intervals; a web process that has not searched for a whole interval reloads.
    "prune-search-change-log": {
        "task": "registry.search.tasks.search_log_prune_task",
        "schedule": envint("MODELHUB_SEARCH_LOG_PRUNE_INTERVAL", 86_400, minimum=60),
    },
}

# --- API ------------------------------------------------------------------------------------
# API tokens expire: after MODELHUB_TOKEN_DEFAULT_DAYS unless their creator asks otherwise, never later than
# MODELHUB_TOKEN_MAX_DAYS (registry/tokens).
MODELHUB_TOKEN_MAX_DAYS = envint("MODELHUB_TOKEN_MAX_DAYS", 365, minimum=1)
MODELHUB_TOKEN_DEFAULT_DAYS = envint("MODELHUB_TOKEN_DEFAULT_DAYS", 90, minimum=1)
if MODELHUB_TOKEN_DEFAULT_DAYS > MODELHUB_TOKEN_MAX_DAYS:
    raise ImproperlyConfigured("MODELHUB_TOKEN_DEFAULT_DAYS must not be over MODELHUB_TOKEN_MAX_DAYS")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "marketplace.api.authentication.APITokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "marketplace.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "marketplace.api.schema.ModelhubAutoSchema",
    "EXCEPTION_HANDLER": "marketplace.api.exceptions.exception_handler",
    # JSON only: no browsable API (browsers get JSON; people use the portal and /api/docs/).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["marketplace.api.parsers.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "marketplace.api.negotiation.JSONOnlyNegotiation",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # marketplace/api/throttles.py: 429 with Retry-After past a rate ("<n>/second|minute|hour|day").
    "DEFAULT_THROTTLE_CLASSES": [
        "marketplace.api.throttles.TokenRateThrottle",
        "marketplace.api.throttles.AddressRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": envstr("MODELHUB_API_RATE_PER_TOKEN", "1200/minute"),
        "address": envstr("MODELHUB_API_RATE_PER_ADDRESS", "3000/minute"),
    },
    # Proxies in front of the portal that set X-Forwarded-For (the nginx example: 1); 0 trusts none of it.
    "NUM_PROXIES": envint("MODELHUB_NUM_PROXIES", 0, minimum=0),
}
# The cache that throttle counts (and short-lived reads: endpoint figures, runtime states) live in: Redis shared by
# every process in production (MODELHUB_CACHE_URL=redis://host:6379/1), else each process's memory.
if envstr("MODELHUB_CACHE_URL", ""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": envstr("MODELHUB_CACHE_URL", ""),
            "KEY_PREFIX": envstr("MODELHUB_CACHE_PREFIX", "modelhub"),
        }
    }
SPECTACULAR_SETTINGS = {
    "TITLE": "Modelhub API",
    "DESCRIPTION": "Catalogue of datasets, models and solutions; versioned artifacts; ONNX validation.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies are documented with their required fields, not as all-optional copies.
    "COMPONENT_SPLIT_PATCH": False,
    # Two choice sets are fields named "kind": asset kinds and lineage edge kinds.
    "ENUM_NAME_OVERRIDES": {
        "AssetKindEnum": "registry.assets.models.AssetKind",
        "LineageKindEnum": "registry.lineage.models.LineageKind",
        "VersionStatusEnum": "registry.versions.models.VersionStatus",
        "ReviewRoundStatusEnum": "registry.governance.models.RoundStatus",
        "EndpointStatusEnum": "registry.endpoints.models.EndpointStatus",
        "ShadowStatusEnum": "registry.endpoints.models.ShadowStatus",
        "ErrorCodeEnum": "registry.kernel.errors.ErrorCode",
        "WebhookEventEnum": "registry.notifications.models.SUBSCRIBABLE_EVENTS",
        "FollowedEventEnum": "registry.notifications.services.FOLLOWABLE_EVENTS",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("MODELHUB_LOG_LEVEL", "INFO")},
}
MODELHUB_ARCHIVE_MAX_EXTRACTED_SIZE = envsize("MODELHUB_ARCHIVE_MAX_EXTRACTED_SIZE", 4 * 1024**3)
