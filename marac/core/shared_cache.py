"""Values worked out once for every process of the service, kept in Redis (REDIS_URL) for a while.

For results that are costly to work out, the same for everyone who may see them, and hold no personal
data (the statistics: suppressed aggregates, seconds of SQL at 100,000 cases). Without it each web
worker works them out for itself, and a worker busy for seconds on a two-core host slows every page
queued behind it.

A value is pickled and signed, with the name it is kept under (HMAC-SHA256 under a key derived from
SECRET_KEY), and read back only when its signature holds: whoever can write to Redis can neither make a
worker unpickle what they wrote nor move a value to another name (one panel's figures to another's; a
caller puts the version of its code in the key, so that another version's values are not taken for
its own). The caller keeps only what may sit outside the database.

Redis is a cache here and never a dependency: without REDIS_URL, or when Redis does not answer within
SOCKET_TIMEOUT, `get` finds nothing and `put` keeps nothing (the log says so, by exception class
only), and the caller works the value out. A key is told apart by its repr, which must therefore be the
same in every process (ids, dates, dataclasses; never an object's address).
"""
import hashlib
import hmac
import logging
import pickle
import time

from flask import current_app

log = logging.getLogger(__name__)

PREFIX = "marac:cache:"
SOCKET_TIMEOUT = 0.5  # seconds: a cache that answers slowly is worse than none
_CLIENT = "marac_shared_cache"


def _client():
    """This process's Redis client (made on first use, after gunicorn's fork), or None."""
    app = current_app._get_current_object()
    if _CLIENT not in app.extensions:
        url = app.config.get("REDIS_URL")
        client = None
        if url:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT)
        app.extensions[_CLIENT] = client
    return app.extensions[_CLIENT]


def _signing_key():
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"marac shared cache", hashlib.sha256).digest()


def _signature(name, payload):
    """The value's signature: of its name and its bytes together."""
    return hmac.new(_signing_key(), name.encode() + b"\0" + payload, hashlib.sha256).digest()


def _name(namespace, key):
    """The Redis key: the namespace and a digest of the caller's key (its repr), never the key itself."""
    return PREFIX + namespace + ":" + hashlib.sha256(repr(key).encode()).hexdigest()


def get(namespace, key):
    """The value kept under `key`, or None (none kept, expired, Redis away, or not signed by us)."""
    client = _client()
    if client is None:
        return None
    try:
        stored = client.get(_name(namespace, key))
    except Exception as error:  # any failure of the cache is a miss
        log.warning("shared cache unavailable", extra={"error": type(error).__name__})
        return None
    if stored is None or len(stored) < 32:
        return None
    signature, payload = stored[:32], stored[32:]
    if not hmac.compare_digest(signature, _signature(_name(namespace, key), payload)):
        log.warning("shared cache entry with a bad signature ignored", extra={"namespace": namespace})
        return None
    try:
        return pickle.loads(payload)  # noqa: S301 (signed by this service: see the module docstring)
    except Exception as error:  # signed, but of classes this code no longer has: a miss
        log.warning("shared cache entry unreadable", extra={"namespace": namespace, "error": type(error).__name__})
        return None


def claim(namespace, key, seconds):
    """Whether this process may work out the value under `key` now: the first to ask may, until it puts
    the value (or `seconds` pass, should it never), and the others may not: they show the copy they
    have, or wait for the value (`wait_for`), so that a value costly to work out is not worked out by
    every worker at once. True without Redis, or when Redis does not answer: then every process works
    values out for itself."""
    client = _client()
    if client is None:
        return True
    try:
        return bool(client.set(_name(namespace, key) + ":claim", b"1", nx=True, ex=max(1, int(seconds))))
    except Exception as error:
        log.warning("shared cache unavailable", extra={"error": type(error).__name__})
        return True


def wait_for(namespace, key, seconds, every=0.25):
    """The value under `key` once another process has put it, or None after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(every)
        value = get(namespace, key)
        if value is not None:
            return value
    return None


def put(namespace, key, value, seconds):
    """Keep `value` under `key` for `seconds` (whole seconds, at least one)."""
    client = _client()
    if client is None:
        return
    name = _name(namespace, key)
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        client.set(name, _signature(name, payload) + payload, ex=max(1, int(seconds)))
        client.delete(name + ":claim")  # put: whoever claimed it is done
    except Exception as error:
        log.warning("shared cache unavailable", extra={"error": type(error).__name__})
