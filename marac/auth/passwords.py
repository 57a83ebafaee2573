"""Password hashing with argon2id (argon2-cffi), rehashing when the parameters change."""
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 12
MAX_LENGTH = 128
_hashers = {}
# One hash of a random password per hashing profile, made once per process: what an unknown email
# is verified against, so that it costs one verification, as a known email does.
_dummy_hashes = {}


def hasher():
    """The argon2id hasher for this app's profile (a cheap one in tests)."""
    fast = bool(current_app.config.get("PASSWORD_HASH_FAST"))
    if fast not in _hashers:
        # The library's defaults follow RFC 9106's recommended argon2id profile; tests use a
        # cheap profile so that the suite stays quick.
        _hashers[fast] = (PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
                          if fast else PasswordHasher())
    return _hashers[fast]


def hash_password(password):
    """An argon2id hash of the password."""
    return hasher().hash(password)


def verify_password(password_hash, password):
    """Whether the password matches the hash (False for a malformed hash)."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    """Whether the hash was made with older parameters."""
    return hasher().check_needs_rehash(password_hash)


def dummy_hash():
    """This process's hash of a random password, made once with the same parameters as real hashes."""
    fast = bool(current_app.config.get("PASSWORD_HASH_FAST"))
    if fast not in _dummy_hashes:
        _dummy_hashes[fast] = hasher().hash(secrets.token_urlsafe(16))
    return _dummy_hashes[fast]


def burn_time(password):
    """Spend what a real verification costs (one verification, no hashing), so an unknown email
    answers as slowly as a known one."""
    verify_password(dummy_hash(), password)


def one_time_password():
    """A random password for a new or reset account; the user must change it at first sign-in."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def password_problem(password, email=None):
    """A message saying why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    if email and email.split("@")[0].lower() in password.lower() and len(email.split("@")[0]) >= 3:
        return "Password must not contain your email address"
    if len(set(password)) < 5:
        return "Password must not repeat the same few characters"
    return None
