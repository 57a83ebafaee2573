"""Creating, rotating, retiring and checking keys. CLI commands call these; they flush, not commit."""
import os
from datetime import timedelta

from sqlalchemy import event, select, text

from marac.audit.services import record
from marac.core.crypto import keyring
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.keys.models import DATA_PURPOSE, DataKey

# A key is retired only after its successor has been primary this long: ten times the
# KEY_CACHE_SECONDS in which every process notices a new primary, to cover a slow transaction too.
RETIRE_GRACE = timedelta(minutes=10)
# Any constant: names the PostgreSQL advisory lock that serialises creating keys.
KEYS_LOCK_ID = 0x6D61726163


def primary_key(purpose=DATA_PURPOSE):
    """The primary (encrypting) key of a purpose, or None."""
    return db.session.execute(
        select(DataKey).where(DataKey.purpose == purpose, DataKey.is_primary.is_(True))
    ).scalar_one_or_none()


def create_key(purpose=DATA_PURPOSE, make_primary=True):
    """A new random 256-bit key, stored wrapped by the KEK; optionally the new primary."""
    ring = keyring()
    if make_primary:
        for key in db.session.execute(
                select(DataKey).where(DataKey.purpose == purpose, DataKey.is_primary.is_(True))).scalars():
            key.is_primary = False
    key = DataKey(purpose=purpose, wrapped_key=ring.wrap(os.urandom(32)), kek_id=ring.kek_id,
                  is_primary=make_primary)
    db.session.add(key)
    db.session.flush()
    ring.forget()
    # Should this transaction roll back, no process may keep using a key that was never stored.
    event.listen(db.session(), "after_soft_rollback", lambda session, previous: ring.forget(), once=True)
    record("keys.created", target=key, detail={"purpose": purpose, "primary": make_primary})
    return key


def init_keys():
    """Create the first data key if there is none. Returns the key created, or None."""
    if primary_key(DATA_PURPOSE) is not None:
        return None
    return create_key(DATA_PURPOSE)


def lock_keys():
    """Serialise key creation until the transaction ends (SQLite writers already hold the lock)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": KEYS_LOCK_ID})


def index_purpose(name):
    """The purpose of blind index `name`'s keys."""
    return f"index:{name}"


def live_keys(purpose=DATA_PURPOSE):
    """The keys of a purpose that are not retired, the primary first, then newest first."""
    return db.session.execute(
        select(DataKey).where(DataKey.purpose == purpose, DataKey.retired_at.is_(None))
        .order_by(DataKey.is_primary.desc(), DataKey.created_at.desc())
    ).scalars().all()


def ensure_index_key(name):
    """The primary key of blind index `name`, created on first use."""
    lock_keys()
    return primary_key(index_purpose(name)) or create_key(index_purpose(name))


def retire_after(purpose=DATA_PURPOSE):
    """When a non-primary key of this purpose may be retired: no process can still encrypt with it."""
    primary = primary_key(purpose)
    return primary.created_at + RETIRE_GRACE if primary else utcnow()


def retire_key(key):
    """Mark a key retired: it is no longer loaded. The caller checks that nothing needs it."""
    key.retired_at = utcnow()
    db.session.flush()
    keyring().forget()
    record("keys.retired", target=key, detail={"purpose": key.purpose})
    return key
