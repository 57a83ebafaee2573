"""Creating, rotating, retiring and checking keys. CLI commands call these; they flush, not commit."""
import os

from flask import current_app
from sqlalchemy import select

from marac.audit.services import record
from marac.core.crypto import keyring
from marac.extensions import db
from marac.keys.models import DataKey


def primary_key(purpose="data"):
    return db.session.execute(
        select(DataKey).where(DataKey.purpose == purpose, DataKey.is_primary.is_(True))
    ).scalar_one_or_none()


def create_key(purpose="data", make_primary=True):
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
    record("keys.created", target=key, detail={"purpose": purpose, "primary": make_primary})
    return key


def init_keys():
    """Create the first data key if there is none. Returns the key created, or None."""
    if primary_key("data") is not None:
        return None
    return create_key("data")


def app_keyring():
    return current_app.extensions["marac_keyring"]
