"""gunicorn settings for the production stack (`make serve`, or `gunicorn -c gunicorn.conf.py wsgi:app`).

Every setting can be changed from the environment; the defaults suit the two-core machine the load
figures in README.md were measured on (benchmarks/load.py).
"""
import multiprocessing
import os


def _int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "wsgi:app"
bind = os.environ.get("MARAC_BIND", "127.0.0.1:8000")

# Processes: gunicorn's usual 2 x cores + 1. Sync workers by default: a page spends most of its time
# in Python (templates, decryption), which a thread does not overlap under the GIL; with
# GUNICORN_THREADS > 1 the workers are gthread (see README.md, "Production stack", for the measurement).
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

# A request that takes longer than `timeout` seconds has its worker killed and restarted. The
# database cancels a statement after MARAC_STATEMENT_TIMEOUT_MS (15 s), so a slow query ends as the
# error page well before that.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # to finish requests in flight on SIGTERM
keepalive = _int("GUNICORN_KEEPALIVE", 5)  # seconds, behind a load balancer that reuses connections

# Each worker is replaced after about this many requests (spread, so they do not all restart at once):
# a guard against slow memory growth that costs one app start per worker every few minutes at load.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 1000)

# Each worker builds its own app after the fork, so no database connection, pool or Redis client is
# ever shared between processes (with preload, the engine would have to be disposed in post_fork).
preload_app = False

# The client address and scheme come from the app's own ProxyFix, governed by MARAC_TRUSTED_PROXIES
# (marac/__init__.py, register_proxies): one mechanism. gunicorn leaves the headers alone, trusting
# no address for them.
forwarded_allow_ips = ""
proxy_allow_ips = ""

# Logs. The app writes one line per request itself, as JSON with the request id, route, status,
# time and user id (marac/core/logs.py), so gunicorn's access log is off unless asked for with
# GUNICORN_ACCESS_LOG=- (or a file). Its format has the path without the query string (%(U)s, not
# %(r)s), no client address, no referrer or user agent. Paths carry only UUIDs.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

if os.environ.get("MARAC_LOG_FORMAT", "json") == "json":
    # gunicorn's own lines (workers booting, timeouts) as the app's JSON, on one stream (stderr).
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "WARNING", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO" if accesslog else "CRITICAL", "handlers": [], "propagate": True},
        },
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "formatters": {"json": {"()": "marac.core.logs.JsonFormatter"}},
    }

# gunicorn's control socket (a shared path under $HOME) is not used: signals manage the processes.
control_socket_disable = True
