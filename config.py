"""Configuration classes, read from the environment. No secret has a fallback value in code.

Development generates its own secrets into instance/ (git-ignored) on first use; Production
refuses to start unless SECRET_KEY, MARAC_KEK (or MARAC_KEK_FILE) and DATABASE_URL are set.
"""
import base64
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("MARAC_INSTANCE_DIR", BASE_DIR / "instance"))

# The secrets the application needs besides the database: the Flask signing key, the
# key-encryption key that wraps the data keys, and the HMAC key of the audit chain.
SECRET_NAMES = ("SECRET_KEY", "MARAC_KEK", "MARAC_AUDIT_KEY")


class ConfigError(RuntimeError):
    """Raised when the configuration cannot be used safely."""


def env_flag(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


def read_secret(name):
    """A secret from the environment, or from the file named by NAME_FILE."""
    if os.environ.get(name):
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return None


def trusted_proxies(default=0):
    """MARAC_TRUSTED_PROXIES: how many reverse proxies to trust for the client address, a whole number."""
    value = os.environ.get("MARAC_TRUSTED_PROXIES", "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()):
        raise ConfigError("MARAC_TRUSTED_PROXIES must be a whole number of proxies, like 1 (0 trusts none)")
    return int(value)


def new_key_b64():
    return base64.b64encode(secrets.token_bytes(32)).decode()


def development_secrets(instance_dir=INSTANCE_DIR):
    """Load instance/dev-secrets.json, creating it with fresh random keys on first use."""
    path = Path(instance_dir) / "dev-secrets.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        values = {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "MARAC_KEK": new_key_b64(),
            "MARAC_AUDIT_KEY": new_key_b64(),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(values, handle, indent=2)
    return json.loads(path.read_text())


class BaseConfig:
    DATABASE_URL = None
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ECHO = False
    WTF_CSRF_TIME_LIMIT = None  # the CSRF token lives as long as the server-side session
    SESSION_COOKIE_NAME = "marac_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("MARAC_SESSION_IDLE_MINUTES", 30))
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("MARAC_SESSION_ABSOLUTE_HOURS", 12))
    MFA_REQUIRED = True
    HSTS = True
    REDIS_URL = os.environ.get("REDIS_URL")
    # Background jobs (pack builds): inline in the request (tests), on RQ with REDIS_URL, else a thread.
    JOBS_INLINE = False
    # Processes that render a meeting's packs side by side (1: in the job's own process).
    PACKS_RENDER_PROCESSES = env_int("MARAC_PACKS_RENDER_PROCESSES", min(2, os.cpu_count() or 1))
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_STRATEGY = "moving-window"
    # Failed sign-ins allowed in a moving window, per client address, per account, and per known
    # browser of an account (marac/auth/throttle.py says how they combine).
    SIGN_IN_LIMIT_PER_ADDRESS = os.environ.get("MARAC_SIGN_IN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    SIGN_IN_LIMIT_PER_ACCOUNT = os.environ.get("MARAC_SIGN_IN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    SIGN_IN_LIMIT_PER_DEVICE = os.environ.get("MARAC_SIGN_IN_LIMIT_PER_DEVICE", "10 per 15 minutes")
    # Reverse proxies in front of the app that each append to X-Forwarded-For (and set -Proto); read
    # from MARAC_TRUSTED_PROXIES by load(). 0 trusts no such header: the address is the connection's.
    TRUSTED_PROXIES = 0
    MFA_LIMIT_PER_ACCOUNT = os.environ.get("MARAC_MFA_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    # Referrals one user may send in a moving window: each runs the repeat check, so probing is slow.
    REFERRAL_SUBMISSION_LIMIT = os.environ.get("MARAC_REFERRAL_SUBMISSION_LIMIT", "20 per hour")
    ORGANISATION_NAME = os.environ.get("MARAC_ORGANISATION_NAME", "Camden Safeguarding Partnership")
    PAGE_SIZE = 50
    # How long a process keeps a panel's statistics once worked out (stats.services.figures_for): they
    # read two years of cases, and the page says when they were worked out. 0 works them out each time.
    STATS_CACHE_SECONDS = env_int("MARAC_STATS_CACHE_SECONDS", 300)
    TESTING = False
    # Where the links in emails point (the address people sign in at).
    BASE_URL = os.environ.get("MARAC_BASE_URL", "http://localhost:5000")
    # Emails (marac/notifications): "smtp" sends through MAIL_SERVER; "log" writes them to the log.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = env_int("MAIL_PORT", 587)
    MAIL_TLS = os.environ.get("MAIL_TLS", "starttls")  # "starttls", "ssl" (implicit TLS) or "none"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_FROM = os.environ.get("MAIL_FROM", "marac-no-reply@localhost")
    # Logs: "json" (one object per line, marac/core/logs.py) or "text"; production defaults to json.
    LOG_FORMAT = os.environ.get("MARAC_LOG_FORMAT", "json")
    LOG_REQUESTS = env_flag("MARAC_LOG_REQUESTS", True)  # one line per request (development's server has its own)
    # PostgreSQL: each process (gunicorn worker, RQ worker) keeps its own pool of connections.
    DB_POOL_SIZE = env_int("MARAC_DB_POOL_SIZE", 5)
    DB_MAX_OVERFLOW = env_int("MARAC_DB_MAX_OVERFLOW", 5)
    DB_POOL_RECYCLE = env_int("MARAC_DB_POOL_RECYCLE", 1800)  # seconds; under the usual firewall idle limits
    DB_POOL_TIMEOUT = env_int("MARAC_DB_POOL_TIMEOUT", 10)  # seconds to wait for a free connection
    DB_CONNECT_TIMEOUT = env_int("MARAC_DB_CONNECT_TIMEOUT", 5)  # seconds, so /readyz answers when the host is gone
    # A statement running longer is cancelled: a web request gets the error page instead of hanging a
    # worker. `flask` commands (the RQ worker, retention, key rotation, backup) run longer statements.
    STATEMENT_TIMEOUT_MS = env_int("MARAC_STATEMENT_TIMEOUT_MS", 15000)
    CLI_STATEMENT_TIMEOUT_MS = env_int("MARAC_CLI_STATEMENT_TIMEOUT_MS", 600000)

    @classmethod
    def database_url(cls):
        return os.environ.get("DATABASE_URL")

    @classmethod
    def load(cls):
        """Return a dict of settings for app.config; subclasses add their secrets."""
        settings = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        if settings.get("REDIS_URL"):
            settings["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"]
        else:
            settings["RATELIMIT_STORAGE_URI"] = "memory://"
        settings["TRUSTED_PROXIES"] = trusted_proxies(settings["TRUSTED_PROXIES"])
        settings["MAIL_PASSWORD"] = read_secret("MAIL_PASSWORD")
        if settings["MAIL_TLS"] not in {"starttls", "ssl", "none"}:
            raise ConfigError("MAIL_TLS must be starttls, ssl or none")
        if settings["LOG_FORMAT"] not in {"json", "text"}:
            raise ConfigError("MARAC_LOG_FORMAT must be json or text")
        return settings


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"

    @classmethod
    def load(cls):
        settings = super().load()
        missing = [name for name in SECRET_NAMES if not read_secret(name)]
        url = cls.database_url()
        if not url:
            missing.append("DATABASE_URL")
        if missing:
            raise ConfigError("Production configuration is missing: " + ", ".join(missing))
        for name in SECRET_NAMES:
            settings[name] = read_secret(name)
        settings["SQLALCHEMY_DATABASE_URI"] = url
        return settings


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    HSTS = False
    # `make run` lets a newcomer try the demo without an authenticator app; set MARAC_MFA_REQUIRED=1
    # to practise the production sign-in. A user who has enrolled is always asked for a code.
    MFA_REQUIRED = env_flag("MARAC_MFA_REQUIRED", False)
    # `make run` prints emails to the log instead of sending them (MAIL_BACKEND=smtp to send).
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "log")
    LOG_FORMAT = os.environ.get("MARAC_LOG_FORMAT", "text")
    LOG_REQUESTS = env_flag("MARAC_LOG_REQUESTS", False)

    @classmethod
    def load(cls):
        settings = super().load()
        generated = development_secrets()
        for name in SECRET_NAMES:
            settings[name] = read_secret(name) or generated[name]
        default_db = f"sqlite:///{INSTANCE_DIR / 'marac.sqlite'}"
        settings["SQLALCHEMY_DATABASE_URI"] = cls.database_url() or default_db
        return settings


class TestConfig(BaseConfig):
    """Used by the test suite; the fixtures pass their own database URL and keys."""

    ENV_NAME = "test"
    TESTING = True
    SESSION_COOKIE_SECURE = False
    HSTS = True
    MFA_REQUIRED = True
    WTF_CSRF_ENABLED = True
    PASSWORD_HASH_FAST = True  # low-cost argon2 parameters so the suite runs quickly
    JOBS_INLINE = True  # a pack build runs in the request that asks for it
    PACKS_RENDER_PROCESSES = 1
    # A view that shows personal data without declaring the disclosure fails (core.disclosure).
    DISCLOSURE_STRICT = True
    # Emails go to the log unless a test starts its own SMTP server (tests/test_notifications.py).
    MAIL_BACKEND = "log"
    # Statistics worked out at each request, so a test sees what it just wrote (tests/test_stats.py
    # turns the keeping on to test it).
    STATS_CACHE_SECONDS = 0
    LOG_FORMAT = "text"
    LOG_REQUESTS = False  # tests/test_logs.py turns them on

    @classmethod
    def load(cls):
        settings = super().load()
        for name in SECRET_NAMES:
            settings[name] = new_key_b64()
        settings["SQLALCHEMY_DATABASE_URI"] = cls.database_url() or "sqlite://"
        return settings


CONFIGS = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "test": TestConfig,
}


def config_from_environment():
    name = os.environ.get("MARAC_ENV", "production")
    if name not in CONFIGS:
        raise ConfigError(f"MARAC_ENV must be one of {', '.join(CONFIGS)}")
    return CONFIGS[name]
