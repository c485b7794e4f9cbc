"""PowerDesk settings: everything from the environment, strictly parsed, with safe defaults.

The embedded default (``make demo``) is SQLite + the database task backend; production sets
``DATABASE_URL`` (PostgreSQL) and its own secrets.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from powerdesk.core.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_str,
    secret_from_env_or_file,
)

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
# Local state (SQLite file, generated secrets, SMS outbox, uploads): never committed.
VAR_DIR = Path(env_str("POWERDESK_VAR_DIR", str(PROJECT_DIR / "var"))).resolve()

DEBUG = env_bool("POWERDESK_DEBUG", False)
SECRET_KEY = secret_from_env_or_file("POWERDESK_SECRET_KEY", VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("POWERDESK_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
# Reverse proxies whose X-Forwarded-For we believe (core/http.py); none by default.
TRUSTED_PROXIES = env_networks("POWERDESK_TRUSTED_PROXIES", [])
CSRF_TRUSTED_ORIGINS = env_list("POWERDESK_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "channels",  # Django Channels (live chat transport); it owns the label "channels"
    # our domains, one app each
    "powerdesk.core",
    "powerdesk.events",
    "powerdesk.scheduling",
    "powerdesk.privacy",
    "powerdesk.organisation",
    "powerdesk.staff",
    "powerdesk.customers",
    "powerdesk.tariffs",
    "powerdesk.billing",
    "powerdesk.payments",
    "powerdesk.content",
    "powerdesk.access",
    "powerdesk.consent",  # marketing opt-in/opt-out per channel address (docs/sms-business-hall.md)
    "powerdesk.channels.sms",
    "powerdesk.channels.wechat_store",
    "powerdesk.conversations",
    "powerdesk.channels.alipay",  # label channel_alipay: the life account gateway and its API client
    "powerdesk.broadcasts",  # WeChat mass messaging (群发), docs/broadcasts.md
    "powerdesk.menus",  # the WeChat custom menu: draft, preview, publish (docs/menus.md)
    "powerdesk.channel_stats",  # WeChat statistics: our figures beside WeChat's datacube (docs/channel-statistics.md)
    # faces
    "powerdesk.console",
    "powerdesk.portal",
    # demo utility generator and process supervisor
    "powerdesk.demo",
]

MIDDLEWARE = [
    "powerdesk.core.middleware.RequestBodyGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "powerdesk.core.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Machine-to-machine callbacks (WeChat, Alipay, SMS gateways: every path under these prefixes)
# are served by a handler with only this chain — no sessions, CSRF, users, messages, locale from
# the request (their replies are in LANGUAGE_CODE) or static files, which a gateway never uses
# (core/callback_handler.py; docs/performance.md, fifth pass). Browser pages are never there: the
# WeChat OAuth pages live under /h5/.
CALLBACK_PATH_PREFIXES = ("/channels/",)
CALLBACK_MIDDLEWARE = [
    "powerdesk.core.middleware.RequestBodyGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "powerdesk.core.middleware.RequestLogMiddleware",
]

ROOT_URLCONF = "powerdesk.urls"
ASGI_APPLICATION = "powerdesk.asgi.application"
WSGI_APPLICATION = "powerdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SQLITE_PATH = Path(env_str("POWERDESK_SQLITE_PATH", str(VAR_DIR / "powerdesk.sqlite3")))
DATABASE_URL = env_str("DATABASE_URL", "")
# A connection pool per process on PostgreSQL, so a request never opens (and PostgreSQL never
# forks) a session of its own. Measured with bench/wechat_callback_load.py (docs/performance.md).
# POWERDESK_DB_POOL=false falls back to persistent per-thread connections.
DB_POOL = env_bool("POWERDESK_DB_POOL", True)
DB_POOL_MAX_SIZE = env_int("POWERDESK_DB_POOL_MAX_SIZE", 16, minimum=2, maximum=500)
# Threads per server process running requests (powerdesk/asgi.py); each holds at most one
# database connection while it works, so keep it at or below POWERDESK_DB_POOL_MAX_SIZE. Our
# requests are short and mostly Python (one interpreter lock per process): on the WeChat callback
# at 180 msg/s, 4 threads gave p99 34 ms where 12 gave 123 ms (docs/performance.md); add server
# processes (powerdesk serve --workers) rather than threads.
HTTP_THREADS = env_int("POWERDESK_HTTP_THREADS", 4, minimum=1, maximum=256)
# PostgreSQL binds parameters itself and prepares a statement once it ran PREPARE_THRESHOLD times
# on a connection, instead of psycopg quoting values into every SQL text which the server then
# parses and plans again: on the WeChat callback, 1.4 instead of 2.4–3.0 ms of PostgreSQL CPU and
# 3.6 instead of 4.4–5.4 ms in the server per message (docs/performance.md). Django leaves both
# off for transaction poolers such as PgBouncer, which lose prepared statements between
# transactions: set POWERDESK_DB_PREPARE_THRESHOLD=0 behind one (binding stays server-side).
DB_PREPARE_THRESHOLD = env_int("POWERDESK_DB_PREPARE_THRESHOLD", 5, minimum=0, maximum=1000)
if DATABASE_URL:
    if DB_POOL:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": 10,  # waiting for a free connection longer than this is an error
        }
    else:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=DB_PREPARE_THRESHOLD or None
    )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            # Server and worker share the file: WAL lets readers run beside the writer, the busy
            # timeout waits instead of failing, and IMMEDIATE takes the write lock at BEGIN so a
            # read-then-write transaction never dead-ends in "database is locked".
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA foreign_keys=ON;"
                ),
            },
            "TEST": {"NAME": env_str("POWERDESK_SQLITE_TEST_PATH", "") or None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Staff authentication ------------------------------------------------------------------
AUTH_USER_MODEL = "staff.StaffUser"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
STAFF_LOGIN_MAX_FAILURES = env_int("POWERDESK_STAFF_LOGIN_MAX_FAILURES", 5, minimum=1)
STAFF_LOGIN_LOCKOUT_MINUTES = env_int("POWERDESK_STAFF_LOGIN_LOCKOUT_MINUTES", 15, minimum=1)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("POWERDESK_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("POWERDESK_SESSION_SECONDS", 8 * 3600, minimum=300)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Requests -------------------------------------------------------------------------------
# Bodies above this are refused with 413 before any view reads them.
MAX_REQUEST_BODY_BYTES = env_int("POWERDESK_MAX_REQUEST_BODY_BYTES", 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

# --- i18n: Chinese first --------------------------------------------------------------------
LANGUAGE_CODE = env_choice("POWERDESK_LANGUAGE", "zh-hans", {"zh-hans", "en"})
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The /i18n/setlang/ choice, kept like the session cookie.
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
USE_I18N = True
# Stored in UTC; shown and business dates reckoned in the utility's zone.
TIME_ZONE = env_str("POWERDESK_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("POWERDESK_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Background tasks -----------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env_choice(
            "POWERDESK_TASK_BACKEND",
            "django_tasks_db.DatabaseBackend",
            {
                "django_tasks_db.DatabaseBackend",
                "django_tasks.backends.immediate.ImmediateBackend",
                "django_tasks_rq.RQBackend",
            },
        )
    }
}

# Live chat transport: in-memory for one process; a Redis layer when there are several.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Personal data protection ---------------------------------------------------------------
# Keys as "kid:base64key,kid2:base64key"; the current one encrypts, all of them decrypt.
PII_KEYS = env_str("POWERDESK_PII_KEYS", "")
PII_CURRENT_KEY_ID = env_str("POWERDESK_PII_CURRENT_KEY_ID", "")
PII_HASH_KEY = env_str("POWERDESK_PII_HASH_KEY", "")
PII_KEY_FILE = VAR_DIR / "pii_keys.json"

# --- Customer verification ------------------------------------------------------------------
OTP_TTL_SECONDS = env_int("POWERDESK_OTP_TTL_SECONDS", 300, minimum=30)
OTP_MAX_ATTEMPTS = env_int("POWERDESK_OTP_MAX_ATTEMPTS", 5, minimum=1)
OTP_RESEND_INTERVAL_SECONDS = env_int("POWERDESK_OTP_RESEND_INTERVAL_SECONDS", 60, minimum=0)
OTP_MAX_PER_PHONE_PER_HOUR = env_int("POWERDESK_OTP_MAX_PER_PHONE_PER_HOUR", 5, minimum=1)
OTP_MAX_PER_IP_PER_HOUR = env_int("POWERDESK_OTP_MAX_PER_IP_PER_HOUR", 30, minimum=1)
# Shown on the console's outbox page; the demo's SMS backend writes here instead of a gateway.
SMS_BACKEND = env_choice(
    "POWERDESK_SMS_BACKEND",
    "outbox",
    {"outbox", "aliyun", "tencent"},
)
SMS_SIGN_NAME = env_str("POWERDESK_SMS_SIGN_NAME", "示范供电")
# Alibaba Cloud SMS (POWERDESK_SMS_BACKEND=aliyun); see powerdesk/channels/sms/protocol.py.
SMS_ALIYUN_ENDPOINT = env_str("POWERDESK_SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/").strip()
SMS_ALIYUN_REGION_ID = env_str("POWERDESK_SMS_ALIYUN_REGION_ID", "cn-hangzhou").strip()
SMS_ALIYUN_ACCESS_KEY_ID = env_str("POWERDESK_SMS_ALIYUN_ACCESS_KEY_ID", "").strip()
SMS_ALIYUN_ACCESS_KEY_SECRET = env_str("POWERDESK_SMS_ALIYUN_ACCESS_KEY_SECRET", "").strip()
SMS_ALIYUN_TIMEOUT_SECONDS = env_int("POWERDESK_SMS_ALIYUN_TIMEOUT_SECONDS", 5, minimum=1, maximum=30)
# Pause before the one immediate retry of a transient failure (5xx, throttling, refused connection).
SMS_RETRY_BACKOFF_MS = env_int("POWERDESK_SMS_RETRY_BACKOFF_MS", 500, minimum=0, maximum=5000)


def _sms_aliyun_templates() -> dict[str, str]:
    """Our template key → the provider's approved code, from "otp:SMS_123456789,...".

    Also refuses, at start-up, an endpoint or an aliyun backend that could never send.
    """
    import re
    from urllib.parse import urlsplit

    from django.core.exceptions import ImproperlyConfigured

    codes: dict[str, str] = {}
    for item in env_list("POWERDESK_SMS_ALIYUN_TEMPLATES", []):
        key, sep, code = (part.strip() for part in item.partition(":"))
        if not (sep and re.fullmatch(r"[a-z][a-z0-9_.]*", key) and re.fullmatch(r"[A-Za-z0-9_]+", code)):
            raise ImproperlyConfigured(
                f"POWERDESK_SMS_ALIYUN_TEMPLATES: {item!r} is not key:TemplateCode (e.g. otp:SMS_123456789)"
            )
        if key in codes:
            raise ImproperlyConfigured(f"POWERDESK_SMS_ALIYUN_TEMPLATES: {key!r} is given twice")
        codes[key] = code
    endpoint = urlsplit(SMS_ALIYUN_ENDPOINT)
    # Plain HTTP only to a local fake: requests carry phone numbers, codes and our key id.
    local = endpoint.hostname in {"127.0.0.1", "localhost", "::1"}
    secure = endpoint.scheme == "https" or (endpoint.scheme == "http" and local)
    if not (secure and endpoint.hostname) or endpoint.query or endpoint.fragment:
        raise ImproperlyConfigured(
            f"POWERDESK_SMS_ALIYUN_ENDPOINT={SMS_ALIYUN_ENDPOINT!r}: expected an https:// URL "
            "(http:// only for 127.0.0.1 or localhost), without query or fragment"
        )
    if not re.fullmatch(r"[a-z0-9-]+", SMS_ALIYUN_REGION_ID):
        raise ImproperlyConfigured(
            f"POWERDESK_SMS_ALIYUN_REGION_ID={SMS_ALIYUN_REGION_ID!r}: expected a region such as cn-hangzhou"
        )
    if SMS_BACKEND == "aliyun":
        missing = [
            name
            for name, value in (
                ("POWERDESK_SMS_ALIYUN_ACCESS_KEY_ID", SMS_ALIYUN_ACCESS_KEY_ID),
                ("POWERDESK_SMS_ALIYUN_ACCESS_KEY_SECRET", SMS_ALIYUN_ACCESS_KEY_SECRET),
                ("POWERDESK_SMS_ALIYUN_TEMPLATES", codes),
                ("POWERDESK_SMS_SIGN_NAME", SMS_SIGN_NAME.strip()),
            )
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(f"POWERDESK_SMS_BACKEND=aliyun needs {', '.join(missing)}")
    return codes


SMS_ALIYUN_TEMPLATES = _sms_aliyun_templates()

# Tencent Cloud SMS (POWERDESK_SMS_BACKEND=tencent): SendSms 2021-01-11 with TC3-HMAC-SHA256;
# see powerdesk/channels/sms/tencent_protocol.py and docs/sms-business-hall.md.
SMS_TENCENT_ENDPOINT = env_str("POWERDESK_SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com/").strip()
SMS_TENCENT_REGION = env_str("POWERDESK_SMS_TENCENT_REGION", "ap-guangzhou").strip()
SMS_TENCENT_SECRET_ID = env_str("POWERDESK_SMS_TENCENT_SECRET_ID", "").strip()
SMS_TENCENT_SECRET_KEY = env_str("POWERDESK_SMS_TENCENT_SECRET_KEY", "").strip()
SMS_TENCENT_SDK_APP_ID = env_str("POWERDESK_SMS_TENCENT_SDK_APP_ID", "").strip()
SMS_TENCENT_TIMEOUT_SECONDS = env_int("POWERDESK_SMS_TENCENT_TIMEOUT_SECONDS", 5, minimum=1, maximum=30)


def _sms_tencent_templates() -> dict[str, str]:
    """Our template key → Tencent's approved TemplateId, from "otp:1234567,hall_reply:1234568".

    Also refuses, at start-up, an endpoint, region or tencent backend that could never send.
    """
    import re
    from urllib.parse import urlsplit

    from django.core.exceptions import ImproperlyConfigured

    ids: dict[str, str] = {}
    for item in env_list("POWERDESK_SMS_TENCENT_TEMPLATES", []):
        key, sep, template_id = (part.strip() for part in item.partition(":"))
        if not (sep and re.fullmatch(r"[a-z][a-z0-9_.]*", key) and re.fullmatch(r"[0-9]{1,20}", template_id)):
            raise ImproperlyConfigured(
                f"POWERDESK_SMS_TENCENT_TEMPLATES: {item!r} is not key:TemplateId (e.g. otp:1234567)"
            )
        if key in ids:
            raise ImproperlyConfigured(f"POWERDESK_SMS_TENCENT_TEMPLATES: {key!r} is given twice")
        ids[key] = template_id
    endpoint = urlsplit(SMS_TENCENT_ENDPOINT)
    # Plain HTTP only to a local fake: requests carry phone numbers and codes.
    local = endpoint.hostname in {"127.0.0.1", "localhost", "::1"}
    secure = endpoint.scheme == "https" or (endpoint.scheme == "http" and local)
    if not (secure and endpoint.hostname) or endpoint.query or endpoint.fragment:
        raise ImproperlyConfigured(
            f"POWERDESK_SMS_TENCENT_ENDPOINT={SMS_TENCENT_ENDPOINT!r}: expected an https:// URL "
            "(http:// only for 127.0.0.1 or localhost), without query or fragment"
        )
    if not re.fullmatch(r"[a-z]+-[a-z]+", SMS_TENCENT_REGION):
        raise ImproperlyConfigured(
            f"POWERDESK_SMS_TENCENT_REGION={SMS_TENCENT_REGION!r}: expected a region such as ap-guangzhou"
        )
    if SMS_TENCENT_SDK_APP_ID and not re.fullmatch(r"[0-9]{6,20}", SMS_TENCENT_SDK_APP_ID):
        raise ImproperlyConfigured(
            f"POWERDESK_SMS_TENCENT_SDK_APP_ID={SMS_TENCENT_SDK_APP_ID!r}: expected the digits of an "
            "SmsSdkAppId such as 1400006666"
        )
    if SMS_BACKEND == "tencent":
        missing = [
            name
            for name, value in (
                ("POWERDESK_SMS_TENCENT_SECRET_ID", SMS_TENCENT_SECRET_ID),
                ("POWERDESK_SMS_TENCENT_SECRET_KEY", SMS_TENCENT_SECRET_KEY),
                ("POWERDESK_SMS_TENCENT_SDK_APP_ID", SMS_TENCENT_SDK_APP_ID),
                ("POWERDESK_SMS_TENCENT_TEMPLATES", ids),
                ("POWERDESK_SMS_SIGN_NAME", SMS_SIGN_NAME.strip()),
            )
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(f"POWERDESK_SMS_BACKEND=tencent needs {', '.join(missing)}")
    return ids


SMS_TENCENT_TEMPLATES = _sms_tencent_templates()

# The SMS business hall (短信营业厅): the inbound webhook /channels/sms/inbound/<aliyun|tencent>/,
# HMAC-signed by the relay in front of it (docs/sms-business-hall.md). The secret comes from the
# environment, or is generated once into var/ for the demo; at least 32 characters.
SMS_INBOUND_ENABLED = env_bool("POWERDESK_SMS_INBOUND_ENABLED", True)
SMS_INBOUND_SECRET = secret_from_env_or_file("POWERDESK_SMS_INBOUND_SECRET", VAR_DIR / "sms_inbound_secret")
# The previous secret, accepted too while a relay switches over (empty: none).
SMS_INBOUND_SECRET_PREVIOUS = env_str("POWERDESK_SMS_INBOUND_SECRET_PREVIOUS", "").strip()
SMS_INBOUND_WINDOW_SECONDS = env_int("POWERDESK_SMS_INBOUND_WINDOW_SECONDS", 300, minimum=30, maximum=3600)
# Where links in SMS replies point (https://host); empty: the origin the webhook was called on.
SMS_H5_BASE_URL = env_str("POWERDESK_SMS_H5_BASE_URL", "").strip().rstrip("/")
# Tencent Cloud refuses URLs inside template variables: off renders a link as its title only.
SMS_REPLY_LINKS = env_bool("POWERDESK_SMS_REPLY_LINKS", True)


def _sms_inbound_check() -> None:
    from urllib.parse import urlsplit

    from django.core.exceptions import ImproperlyConfigured

    for name, secret in (
        ("POWERDESK_SMS_INBOUND_SECRET", SMS_INBOUND_SECRET),
        ("POWERDESK_SMS_INBOUND_SECRET_PREVIOUS", SMS_INBOUND_SECRET_PREVIOUS),
    ):
        if secret and len(secret.strip()) < 32:
            raise ImproperlyConfigured(f"{name}: at least 32 characters (a random secret, not a password)")
    if SMS_H5_BASE_URL:
        parts = urlsplit(SMS_H5_BASE_URL)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
            raise ImproperlyConfigured(
                f"POWERDESK_SMS_H5_BASE_URL={SMS_H5_BASE_URL!r}: expected an origin such as https://h5.example.cn"
            )


_sms_inbound_check()

# --- WeChat Official Account API client (powerdesk/channels/wechat_store; docs/wechat-api.md) --
# Point both at the local fake (python -m powerdesk.channels.wechat_store.fake_server) in the demo.
WECHAT_API_BASE_URL = env_str("POWERDESK_WECHAT_API_BASE_URL", "https://api.weixin.qq.com").strip()
WECHAT_API_OAUTH_BASE_URL = env_str(
    "POWERDESK_WECHAT_API_OAUTH_BASE_URL", "https://open.weixin.qq.com"
).strip()
WECHAT_API_TIMEOUT_SECONDS = env_int("POWERDESK_WECHAT_API_TIMEOUT_SECONDS", 5, minimum=1, maximum=60)


def _wechat_api_urls_check() -> None:
    """Requests carry the AppSecret and access_token: https, or http only to a loopback fake."""
    from urllib.parse import urlsplit

    from django.core.exceptions import ImproperlyConfigured

    for name, url in (
        ("POWERDESK_WECHAT_API_BASE_URL", WECHAT_API_BASE_URL),
        ("POWERDESK_WECHAT_API_OAUTH_BASE_URL", WECHAT_API_OAUTH_BASE_URL),
    ):
        parts = urlsplit(url)
        local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if (
            not (parts.scheme == "https" or (parts.scheme == "http" and local))
            or parts.query
            or parts.fragment
        ):
            raise ImproperlyConfigured(
                f"{name}={url!r}: expected an https:// URL (http:// only for 127.0.0.1 or localhost), "
                "without query or fragment"
            )


_wechat_api_urls_check()

# --- Customer API tokens --------------------------------------------------------------------
ACCESS_TOKEN_SECONDS = env_int("POWERDESK_ACCESS_TOKEN_SECONDS", 3600, minimum=60)
REFRESH_TOKEN_DAYS = env_int("POWERDESK_REFRESH_TOKEN_DAYS", 30, minimum=1)
APP_LOGIN_CODE_SECONDS = env_int("POWERDESK_APP_LOGIN_CODE_SECONDS", 120, minimum=10)

# --- Observability --------------------------------------------------------------------------
METRICS_ENABLED = env_bool("POWERDESK_METRICS_ENABLED", True)
LOG_LEVEL = env_choice("POWERDESK_LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"})
LOG_FORMAT = env_choice("POWERDESK_LOG_FORMAT", "json", {"json", "text"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "powerdesk.core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "powerdesk.security": {"level": "INFO"},
    },
}


# --- Online payments (powerdesk/payments; docs/payments.md) -----------------------------------
# "sandbox": the local sandbox gateway (python -m powerdesk.payments.sandbox_server) with keys
# generated into VAR_DIR; "live": the real gateways with the keys below, all required.
PAYMENTS_MODE = env_choice("POWERDESK_PAYMENTS_MODE", "sandbox", {"sandbox", "live"})
PAYMENTS_GATEWAYS = env_list("POWERDESK_PAYMENTS_GATEWAYS", ["alipay", "wechatpay"])
# Where the gateways reach us (notify URLs) and where the customer returns after paying.
PAYMENTS_NOTIFY_BASE_URL = env_str("POWERDESK_PAYMENTS_NOTIFY_BASE_URL", "http://127.0.0.1:8000").strip()
PAYMENTS_RETURN_URL = env_str("POWERDESK_PAYMENTS_RETURN_URL", "http://127.0.0.1:8000/h5/pay/result/").strip()
PAYMENTS_SANDBOX_URL = env_str("POWERDESK_PAYMENTS_SANDBOX_URL", "http://127.0.0.1:8702").strip()
PAYMENTS_SANDBOX_KEY_FILE = Path(
    env_str("POWERDESK_PAYMENTS_SANDBOX_KEY_FILE", str(VAR_DIR / "payments_sandbox_keys.json"))
)
PAYMENTS_HTTP_TIMEOUT_SECONDS = env_int("POWERDESK_PAYMENTS_HTTP_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
PAYMENTS_ORDER_TTL_MINUTES = env_int("POWERDESK_PAYMENTS_ORDER_TTL_MINUTES", 30, minimum=1, maximum=1440)
# Orders still open this long after creation are asked about at the gateway (a lost or late
# notification must not leave a paid bill unpaid); past the TTL plus the grace they are closed.
PAYMENTS_ORDER_QUERY_AFTER_SECONDS = env_int(
    "POWERDESK_PAYMENTS_ORDER_QUERY_AFTER_SECONDS", 120, minimum=10, maximum=86400
)
PAYMENTS_ORDER_CLOSE_GRACE_MINUTES = env_int(
    "POWERDESK_PAYMENTS_ORDER_CLOSE_GRACE_MINUTES", 5, minimum=0, maximum=1440
)
# Daily readings and load curves older than this move to the Parquet lake (billing/retention.py).
READINGS_KEEP_DAYS = env_int("POWERDESK_READINGS_KEEP_DAYS", 90, minimum=35, maximum=3660)
LAKE_DIR = Path(env_str("POWERDESK_LAKE_DIR", str(VAR_DIR / "lake"))).resolve()
PAYMENTS_MAX_ORDER_FEN = env_int("POWERDESK_PAYMENTS_MAX_ORDER_FEN", 10_000_000, minimum=1)
PAYMENTS_WECHATPAY_MAX_SKEW_SECONDS = env_int(
    "POWERDESK_PAYMENTS_WECHATPAY_MAX_SKEW_SECONDS", 300, minimum=30, maximum=3600
)


def _payments_pem(name: str) -> str:
    """A PEM key from ``name`` (the text, "\\n" allowed) or from the file named by ``name_FILE``."""
    value = env_str(name, "").strip().replace("\\n", "\n")
    path = env_str(f"{name}_FILE", "").strip()
    if value and path:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"set {name} or {name}_FILE, not both")
    if path:
        value = Path(path).read_text(encoding="utf-8").strip()
    return value


PAYMENTS_ALIPAY_APP_ID = env_str("POWERDESK_PAYMENTS_ALIPAY_APP_ID", "").strip()
PAYMENTS_ALIPAY_GATEWAY_URL = env_str(
    "POWERDESK_PAYMENTS_ALIPAY_GATEWAY_URL", "https://openapi.alipay.com/gateway.do"
).strip()
PAYMENTS_ALIPAY_APP_PRIVATE_KEY = _payments_pem("POWERDESK_PAYMENTS_ALIPAY_APP_PRIVATE_KEY")
PAYMENTS_ALIPAY_PUBLIC_KEY = _payments_pem("POWERDESK_PAYMENTS_ALIPAY_PUBLIC_KEY")
PAYMENTS_WECHATPAY_MCHID = env_str("POWERDESK_PAYMENTS_WECHATPAY_MCHID", "").strip()
PAYMENTS_WECHATPAY_APPID = env_str("POWERDESK_PAYMENTS_WECHATPAY_APPID", "").strip()
PAYMENTS_WECHATPAY_API_BASE_URL = env_str(
    "POWERDESK_PAYMENTS_WECHATPAY_API_BASE_URL", "https://api.mch.weixin.qq.com"
).strip()
PAYMENTS_WECHATPAY_MERCHANT_SERIAL_NO = env_str("POWERDESK_PAYMENTS_WECHATPAY_MERCHANT_SERIAL_NO", "").strip()
PAYMENTS_WECHATPAY_MERCHANT_PRIVATE_KEY = _payments_pem("POWERDESK_PAYMENTS_WECHATPAY_MERCHANT_PRIVATE_KEY")
PAYMENTS_WECHATPAY_PLATFORM_SERIAL_NO = env_str("POWERDESK_PAYMENTS_WECHATPAY_PLATFORM_SERIAL_NO", "").strip()
# The platform certificate (PEM) or its public key (WeChat Pay's "platform public key" mode).
PAYMENTS_WECHATPAY_PLATFORM_PUBLIC_KEY = _payments_pem("POWERDESK_PAYMENTS_WECHATPAY_PLATFORM_PUBLIC_KEY")
PAYMENTS_WECHATPAY_APIV3_KEY = env_str("POWERDESK_PAYMENTS_WECHATPAY_APIV3_KEY", "")


def _payments_check() -> None:
    """Refuse at start-up a payments configuration that could never work."""
    from urllib.parse import urlsplit

    from django.core.exceptions import ImproperlyConfigured

    unknown = sorted(set(PAYMENTS_GATEWAYS) - {"alipay", "wechatpay"})
    if unknown:
        raise ImproperlyConfigured(f"POWERDESK_PAYMENTS_GATEWAYS: unknown gateway(s) {unknown}")
    for name, url in (("NOTIFY_BASE_URL", PAYMENTS_NOTIFY_BASE_URL), ("SANDBOX_URL", PAYMENTS_SANDBOX_URL)):
        if urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).hostname:
            raise ImproperlyConfigured(f"POWERDESK_PAYMENTS_{name}={url!r}: expected an http(s) URL")
    if PAYMENTS_MODE != "live":
        return
    required = {
        "alipay": {
            "ALIPAY_APP_ID": PAYMENTS_ALIPAY_APP_ID,
            "ALIPAY_APP_PRIVATE_KEY": PAYMENTS_ALIPAY_APP_PRIVATE_KEY,
            "ALIPAY_PUBLIC_KEY": PAYMENTS_ALIPAY_PUBLIC_KEY,
        },
        "wechatpay": {
            "WECHATPAY_MCHID": PAYMENTS_WECHATPAY_MCHID,
            "WECHATPAY_APPID": PAYMENTS_WECHATPAY_APPID,
            "WECHATPAY_MERCHANT_SERIAL_NO": PAYMENTS_WECHATPAY_MERCHANT_SERIAL_NO,
            "WECHATPAY_MERCHANT_PRIVATE_KEY": PAYMENTS_WECHATPAY_MERCHANT_PRIVATE_KEY,
            "WECHATPAY_PLATFORM_SERIAL_NO": PAYMENTS_WECHATPAY_PLATFORM_SERIAL_NO,
            "WECHATPAY_PLATFORM_PUBLIC_KEY": PAYMENTS_WECHATPAY_PLATFORM_PUBLIC_KEY,
            "WECHATPAY_APIV3_KEY": PAYMENTS_WECHATPAY_APIV3_KEY,
        },
    }
    missing = [
        f"POWERDESK_PAYMENTS_{key}"
        for gateway in PAYMENTS_GATEWAYS
        for key, value in required[gateway].items()
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(f"POWERDESK_PAYMENTS_MODE=live needs {', '.join(missing)}")
    if "wechatpay" in PAYMENTS_GATEWAYS and len(PAYMENTS_WECHATPAY_APIV3_KEY.encode()) != 32:
        raise ImproperlyConfigured("POWERDESK_PAYMENTS_WECHATPAY_APIV3_KEY: expected 32 characters")
    if not PAYMENTS_NOTIFY_BASE_URL.startswith("https://"):
        raise ImproperlyConfigured("POWERDESK_PAYMENTS_NOTIFY_BASE_URL must be https:// in live mode")


_payments_check()


# --- Conversation engine and WeChat callback (docs/conversations.md) ----------------------------
# Regex keyword rules are evaluated one by one after the Aho-Corasick pass: keep them few.
CONVERSATIONS_MAX_REGEX_RULES = env_int("POWERDESK_CONVERSATIONS_MAX_REGEX_RULES", 50, minimum=0, maximum=500)
# Answer "success" at once and send every reply through the customer-service API instead.
WECHAT_CALLBACK_DEFER_REPLIES = env_bool("POWERDESK_WECHAT_CALLBACK_DEFER_REPLIES", False)
# Staff may answer a follower through the customer-service API only this many hours after the
# follower's last message, menu click or subscription (WeChat's window is 48 h; docs/inbox.md).
WECHAT_CS_WINDOW_HOURS = env_int("POWERDESK_WECHAT_CS_WINDOW_HOURS", 48, minimum=1, maximum=48)

# --- WeChat OAuth2 sign-in for the H5 pages (docs/wechat-oauth.md) ------------------------------
# The Official Account (WeChatAccount slug) whose web authorisation signs customers in; empty:
# none, and only /h5/wechat/login/?account=<slug> starts it. `powerdesk demo` sets "demo".
WECHAT_OAUTH_ACCOUNT = env_str("POWERDESK_WECHAT_OAUTH_ACCOUNT", "").strip()
# Inside WeChat's browser (User-Agent "MicroMessenger"), send a visitor who is not signed in
# through OAuth2 before the phone sign-in page.
WECHAT_OAUTH_AUTO = env_bool("POWERDESK_WECHAT_OAUTH_AUTO", True)
# How long an authorisation `state` (single use, bound to the session) stays valid.
WECHAT_OAUTH_STATE_SECONDS = env_int("POWERDESK_WECHAT_OAUTH_STATE_SECONDS", 300, minimum=30, maximum=3600)


def _wechat_oauth_check() -> None:
    import re

    from django.core.exceptions import ImproperlyConfigured

    if WECHAT_OAUTH_ACCOUNT and not re.fullmatch(r"[-a-zA-Z0-9_]{1,32}", WECHAT_OAUTH_ACCOUNT):
        raise ImproperlyConfigured(
            f"POWERDESK_WECHAT_OAUTH_ACCOUNT={WECHAT_OAUTH_ACCOUNT!r}: expected a WeChat account slug"
        )


_wechat_oauth_check()

# --- Demo: the fake WeChat API and the follower simulator (docs/demo.md) ------------------------
# `powerdesk demo` runs the fake WeChat API (api.weixin.qq.com + open.weixin.qq.com) here and
# points the client settings at it; loopback only (its control endpoints have no password).
DEMO_WECHAT_FAKE_ENABLED = env_bool("POWERDESK_DEMO_WECHAT_FAKE", True)
DEMO_WECHAT_FAKE_URL = env_str("POWERDESK_DEMO_WECHAT_FAKE_URL", "http://127.0.0.1:8703").strip()
# Simulated followers sending traffic through the real callback: messages per minute (0: off).
DEMO_FOLLOWER_RATE_PER_MINUTE = env_int("POWERDESK_DEMO_FOLLOWER_RATE", 4, minimum=0, maximum=600)
DEMO_FOLLOWERS = env_int("POWERDESK_DEMO_FOLLOWERS", 200, minimum=2, maximum=100_000)
# Simulated customers texting the SMS business hall through its signed webhook: per minute (0: off).
DEMO_SMS_RATE_PER_MINUTE = env_int("POWERDESK_DEMO_SMS_RATE", 2, minimum=0, maximum=600)
# The fake Alipay open-platform gateway of the demo life account (port from its gateway URL).
DEMO_ALIPAY_FAKE_ENABLED = env_bool("POWERDESK_DEMO_ALIPAY_FAKE", True)


def _demo_wechat_fake_check() -> None:
    from urllib.parse import urlsplit

    from django.core.exceptions import ImproperlyConfigured

    parts = urlsplit(DEMO_WECHAT_FAKE_URL)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or parts.hostname not in {"127.0.0.1", "localhost"} or not port:
        raise ImproperlyConfigured(
            f"POWERDESK_DEMO_WECHAT_FAKE_URL={DEMO_WECHAT_FAKE_URL!r}: expected http://127.0.0.1:<port> "
            "(the fake binds to loopback only)"
        )


_demo_wechat_fake_check()


# --- WeChat mass messaging, 群发 (docs/broadcasts.md) --------------------------------------------
# Our own count of mass sends per Official Account, per Beijing calendar day and month (a
# broadcast counts once however many chunks it takes). WeChat's own limit (a service account
# reaches each follower 4 times a calendar month) still applies and answers errcode 45028.
BROADCAST_QUOTA_PER_DAY = env_int("POWERDESK_BROADCAST_QUOTA_PER_DAY", 1, minimum=1, maximum=1000)
BROADCAST_QUOTA_PER_MONTH = env_int("POWERDESK_BROADCAST_QUOTA_PER_MONTH", 4, minimum=1, maximum=10000)
# Openids per mass/send call: WeChat takes 2–10,000; chunks are balanced, so none has fewer than 2.
BROADCAST_CHUNK_SIZE = env_int("POWERDESK_BROADCAST_CHUNK_SIZE", 10_000, minimum=4, maximum=10_000)
# A worker that claims a chunk holds it this long; after that another worker may resend it (under
# the same clientmsgid, so WeChat delivers it once). Longer than one API call with its retry.
BROADCAST_CHUNK_LEASE_SECONDS = env_int("POWERDESK_BROADCAST_CHUNK_LEASE_SECONDS", 120, minimum=5, maximum=3600)
# Transient failures (timeouts, system busy) of one chunk before it is marked failed.
BROADCAST_MAX_ATTEMPTS = env_int("POWERDESK_BROADCAST_MAX_ATTEMPTS", 5, minimum=1, maximum=50)
# A submitted chunk without WeChat's MASSSENDJOBFINISH after this many minutes is asked about
# with mass/get by `powerdesk broadcast_resume`.
BROADCAST_REPORT_WAIT_MINUTES = env_int("POWERDESK_BROADCAST_REPORT_WAIT_MINUTES", 30, minimum=1, maximum=1440)
# The cover image material (thumb_media_id) that articles broadcasts use unless one is given.
BROADCAST_THUMB_MEDIA_ID = env_str("POWERDESK_BROADCAST_THUMB_MEDIA_ID", "").strip()
