"""Settings read from the environment (django-environ).

Embedded default: SQLite under var/ and kombu's filesystem broker under var/, so the
run command needs no servers. Production and the test suite set DATABASE_URL
(PostgreSQL) and CELERY_BROKER_URL (Redis).
"""
import hashlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("TRACKER_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env(DEBUG=(bool, False))
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
else:
    SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_tables2",
    "django_filters",
    "django_celery_beat",
    "simple_history",
    "dbbackup",
    "axes",
    "csp",
    "health_check",
    "django_fsm_log",
    "rules",
    "tree_queries",
    "projects",
    "reporting",
    "indicators",
    "supervision",
    "portfolio",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "projects.middleware.OrganisationRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

# ---------------------------------------------------------------- security
# With DEBUG off: cookies only over HTTPS and out of scripts' reach, HSTS, and HTTP redirected to
# HTTPS. Behind a TLS-terminating proxy set TRACKER_BEHIND_PROXY=1 (trust X-Forwarded-Proto), or
# TRACKER_SSL_REDIRECT=0 when the proxy itself redirects.
# The embedded default (scripts/run.sh) runs with DEBUG off but over plain HTTP on this machine:
# TRACKER_LOCAL_HTTP=1 keeps cookies, redirects and HSTS for plain HTTP (never set it in production).
LOCAL_HTTP = env.bool("TRACKER_LOCAL_HTTP", default=False)
HTTPS = not DEBUG and not LOCAL_HTTP
SECURE_SSL_REDIRECT = env.bool("TRACKER_SSL_REDIRECT", default=HTTPS)
if env.bool("TRACKER_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("TRACKER_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = env.bool("TRACKER_HSTS_SUBDOMAINS", default=HTTPS)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content security policy (django-csp): everything from this site only; charts and styles are
# static files, no inline scripts or style attributes (Bootstrap's icons are data: URIs).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF], "script-src": [SELF], "style-src": [SELF], "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"], "connect-src": [SELF], "object-src": [NONE], "base-uri": [SELF],
        "form-action": [SELF], "frame-ancestors": [NONE],
    },
}

# Login throttling (django-axes): ten failures for one user name, or from one address, lock it
# out for TRACKER_LOCKOUT_MINUTES (default an hour) with a Chinese message; the admin login too.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "rules.permissions.ObjectPermissionBackend",
                           "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("TRACKER_LOGIN_FAILURES", default=10)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=env.int("TRACKER_LOCKOUT_MINUTES", default=60))
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

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
                "projects.context_processors.roles",
                "reporting.context_processors.reports_todo",
                "portfolio.context_processors.versions",
            ],
        },
    },
]
# Form widgets render with the project's templates (templates/widgets/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'tracker.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep connections between requests: opening one costs more than serving a list page.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default is shared by web, worker and beat processes and takes concurrent
    # writes: readers never block the writer (WAL), a writer takes the lock when its transaction
    # begins (IMMEDIATE, so two writers queue instead of failing on upgrade), and waits up to
    # 30 s for it. Persistent connections would keep WAL readers open across requests.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
    # SQLite keeps the key columns of an index with INCLUDE columns (reporting's report_month_item)
    # and leaves the others to the table: correct, only not index-only.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
if DATABASES["default"]["ENGINE"].endswith("postgresql") and not env.bool("PG_JIT", default=False):
    # No JIT: the evaluation's and the dashboard's grouped queries over every entry cost enough
    # for PostgreSQL to compile them, which took 0.6 s a statement (more than running it) and
    # returned nothing faster (README, "Province scale"). PG_JIT=1 turns it back on.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = (options.get("options", "") + " -c jit=off").strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
# The interface speaks Chinese whatever language the browser asks for.
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# WhiteNoise serves static files: in production (scripts/serve.sh, TRACKER_COLLECTED_STATIC=1)
# collected, compressed and with cache-busting names; elsewhere straight from the folders.
WHITENOISE_USE_FINDERS = not env.bool("TRACKER_COLLECTED_STATIC", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if env.bool("TRACKER_COLLECTED_STATIC", default=False)
                    else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads are read into rows and never kept as files, except a problem's 销号 evidence
# (supervision), kept under MEDIA_ROOT and archived by the nightly mediabackup.
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_ROOT.mkdir(exist_ok=True)

# Backups (django-dbbackup; README "Backup and restore"): `dbbackup` / `dbrestore`, one archive per
# night in TRACKER_BACKUP_DIR (default var/backups), the last TRACKER_BACKUP_KEEP kept. PostgreSQL
# through pg_dump's custom format and pg_restore; the embedded SQLite through SQLite's online backup
# API both ways, never a copy of the file (config/backup.py).
BACKUP_DIR = Path(env("TRACKER_BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_DIR.mkdir(parents=True, exist_ok=True)
STORAGES["dbbackup"] = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": str(BACKUP_DIR)}}
DBBACKUP_CONNECTOR_MAPPING = {
    "django.db.backends.sqlite3": "config.backup.SqliteOnlineBackupConnector",
    "django.db.backends.postgresql": "dbbackup.db.postgresql.PgDumpBinaryConnector",
}
DBBACKUP_CLEANUP_KEEP = DBBACKUP_CLEANUP_KEEP_MEDIA = env.int("TRACKER_BACKUP_KEEP", default=14)
DBBACKUP_SEND_EMAIL = False

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

# Celery: filesystem broker (no server) by default; Redis in production and tests.
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("in", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "in"),
        "data_folder_out": str(_BROKER_DIR / "in"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        # kombu's default is ./control, which would litter the checkout.
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Nothing lost when a worker dies: a task is acknowledged when it finishes, a task whose worker
# process was killed goes back to the queue, and a worker takes one task at a time. On Redis an
# unacknowledged task of a worker that vanished entirely is redelivered after the visibility
# timeout (longer than any task). Tasks are idempotent (portfolio/tasks.py).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "evaluate-flags-nightly": {
        "task": "portfolio.tasks.evaluate_flags_task",
        "schedule": crontab(hour=1, minute=0),
    },
    "drain-outbox": {  # re-evaluations whose after-commit attempt failed, and alerts still owed
        "task": "portfolio.tasks.drain_outbox_task",
        "schedule": timedelta(minutes=5),
    },
    "unit-reminders-weekly": {
        "task": "portfolio.tasks.send_unit_reminders_task",
        "schedule": crontab(hour=8, minute=0, day_of_week=1),
    },
    "backup-nightly": {
        "task": "config.backup.backup_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "order-reminders": {  # 催办: only orders whose colour changed are mailed (supervision/reminders.py)
        "task": "supervision.tasks.order_reminders_task",
        "schedule": crontab(minute=20),
    },
    "problem-reminders": {  # overdue problems, once per change (supervision/reminders.py)
        "task": "supervision.tasks.problem_reminders_task",
        "schedule": crontab(minute=25),
    },
    "channel-messages": {  # group-robot messages whose send failed or could not be queued
        "task": "projects.tasks.send_channel_messages_task",
        "schedule": timedelta(minutes=1),
    },
    "leader-digest-weekly": {
        "task": "portfolio.tasks.send_leader_digest_task",
        "schedule": crontab(hour=8, minute=0, day_of_week=1),
    },
}

# Email: console on the embedded default, SMTP when EMAIL_URL is set.
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="tracker@localhost")

# Uploads (plan import, targets, reports, indicator values): refused before parsing beyond these.
TRACKER_UPLOAD_MAX_BYTES = env.int("TRACKER_UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
TRACKER_UPLOAD_MAX_ROWS = env.int("TRACKER_UPLOAD_MAX_ROWS", default=100_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Rule thresholds (docs/architecture.md, "Facts and rules").
TRACKER_REPORTING_DAY = env.int("TRACKER_REPORTING_DAY", default=5)
TRACKER_REPORTING_START = env("TRACKER_REPORTING_START", default="2026-01")
TRACKER_REPORT_MISSING_RED_MONTHS = env.int("TRACKER_REPORT_MISSING_RED_MONTHS", default=3)
TRACKER_UNDERFUNDED_YELLOW_POINTS = Decimal(env("TRACKER_UNDERFUNDED_YELLOW_POINTS", default="10"))
TRACKER_UNDERFUNDED_RED_POINTS = Decimal(env("TRACKER_UNDERFUNDED_RED_POINTS", default="30"))
# 开工滞后: yellow once the planned start month has passed, red from this many months late
TRACKER_START_LATE_RED_MONTHS = env.int("TRACKER_START_LATE_RED_MONTHS", default=3)
# 督办 colours (supervision/models.py colour_conditions): blue when the deadline is at most this many
# days away and no answer stands; yellow when not signed this many days after issue.
TRACKER_ORDER_BLUE_DAYS = env.int("TRACKER_ORDER_BLUE_DAYS", default=3)
TRACKER_ORDER_SIGN_DAYS = env.int("TRACKER_ORDER_SIGN_DAYS", default=2)
# The unit ranking (portfolio/summary.py compute_ranking, its formula shown on /ranking/): the
# weight of each component (a unit without a component is scored over the others' weights) and
# the points taken off per red entry.
TRACKER_RANKING_WEIGHT_PACE = Decimal(env("TRACKER_RANKING_WEIGHT_PACE", default="0.6"))
TRACKER_RANKING_WEIGHT_REPORTING = Decimal(env("TRACKER_RANKING_WEIGHT_REPORTING", default="0.4"))
TRACKER_RANKING_WEIGHT_PROBLEMS = Decimal(env("TRACKER_RANKING_WEIGHT_PROBLEMS", default="0.2"))
TRACKER_RANKING_WEIGHT_ORDERS = Decimal(env("TRACKER_RANKING_WEIGHT_ORDERS", default="0.2"))
TRACKER_RANKING_RED_PENALTY = Decimal(env("TRACKER_RANKING_RED_PENALTY", default="5"))

# Group robots (projects/channels.py, webhooks.py): the hosts a webhook may point to, the seconds a
# robot has to answer, the attempts before a message is kept as failed, the posts per robot a minute.
TRACKER_CHANNEL_HOSTS = env.list("TRACKER_CHANNEL_HOSTS", default=["oapi.dingtalk.com", "qyapi.weixin.qq.com"])
TRACKER_CHANNEL_TIMEOUT = env.float("TRACKER_CHANNEL_TIMEOUT", default=5.0)
TRACKER_CHANNEL_MAX_ATTEMPTS = env.int("TRACKER_CHANNEL_MAX_ATTEMPTS", default=8)
TRACKER_CHANNEL_PER_MINUTE = env.int("TRACKER_CHANNEL_PER_MINUTE", default=20)  # what one robot accepts
# A problem's 销号 evidence (kept under MEDIA_ROOT/problems/, served only to those who see the problem).
TRACKER_PROBLEM_FILE_MAX_BYTES = env.int("TRACKER_PROBLEM_FILE_MAX_BYTES", default=10 * 1024 * 1024)
# Dashboards and the ranking are cached under keys naming the data version (docs/architecture.md);
# entries expire after this many seconds even when nothing changed.
TRACKER_CACHE_SECONDS = env.int("TRACKER_CACHE_SECONDS", default=3600)
# The release of the code: cached template fragments (the navigation) are keyed by it, so a
# deploy never serves the previous release's fragments. Default: a digest of what they render.
TRACKER_RELEASE = env("TRACKER_RELEASE", default=hashlib.sha1(b"".join(
    (BASE_DIR / name).read_bytes() for name in ("templates/base.html", "config/urls.py"))).hexdigest()[:12])

# Django's cache: a per-process memory cache on the embedded default; Redis in production and
# tests (CACHE_URL=redis://host:port/db). Keys carry the data version, so per-process caches
# never serve figures older than the database.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://tracker")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # With Redis down the cache misses instead of failing: every page works, slower
    # (config/cache.py). A Redis that does not answer costs at most the connect timeout, then is
    # skipped for a few seconds.
    CACHES["default"]["BACKEND"] = "config.cache.TolerantRedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update({
        "socket_connect_timeout": env.float("TRACKER_CACHE_CONNECT_TIMEOUT", default=0.5),
        "socket_timeout": env.float("TRACKER_CACHE_TIMEOUT", default=1.0),
    })

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
