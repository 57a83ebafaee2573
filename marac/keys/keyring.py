"""The key ring of one process: data and blind-index keys, unwrapped with the KEK on demand.

create_app installs one (app.extensions["marac_keyring"]); core.crypto and core.blind_index reach
it through core.crypto.keyring() and never read the key table themselves.
"""
import time

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap
from sqlalchemy import select

from marac.core.crypto import KeyUnavailable, kek_fingerprint
from marac.extensions import db
from marac.keys.models import DATA_PURPOSE, DataKey
from marac.keys.services import ensure_index_key, index_purpose

# How long a process trusts its cached primary key (and blind-index keys) before asking the
# database again, so that every process follows a rotation within this many seconds.
KEY_CACHE_SECONDS = 60


class KeyRing:
    """The unwrapped keys of one process, loaded from the data_keys table on demand.

    Retired keys are never loaded. The primary key is re-checked every KEY_CACHE_SECONDS so that a
    long-running process starts encrypting under a new primary soon after a rotation.
    """

    def __init__(self, kek):
        self.kek = kek
        self.kek_id = kek_fingerprint(kek)
        self.forget()

    def load(self):
        """Read and unwrap every live data key, noting the primary."""
        keys, primary = {}, None
        for key in db.session.execute(select(DataKey).where(
                DataKey.purpose == DATA_PURPOSE, DataKey.retired_at.is_(None))).scalars():
            keys[key.id] = self.unwrap_stored(key)
            if key.is_primary:
                primary = key.id
        self._keys, self._primary_id, self._checked = keys, primary, time.monotonic()

    def unwrap_stored(self, key):
        """The raw key of a data_keys row, after checking that this KEK wrapped it."""
        if key.kek_id != self.kek_id:
            raise KeyUnavailable(
                f"{key.purpose} key {key.id} is wrapped by another key-encryption key ({key.kek_id})"
            )
        return aes_key_unwrap(self.kek, key.wrapped_key)

    def primary(self):
        """(id, raw key) of the primary data key, re-checked every KEY_CACHE_SECONDS."""
        if self._primary_id is None or time.monotonic() - self._checked > KEY_CACHE_SECONDS:
            self._refresh_primary()
        if self._primary_id is None:
            raise KeyUnavailable("no primary data key: run `flask keys init`")
        return self._primary_id, self._keys[self._primary_id]

    def _refresh_primary(self):
        """Re-read the primary's id (cheap); reload the keys only when it is one not loaded yet."""
        primary_id = db.session.execute(select(DataKey.id).where(
            DataKey.purpose == DATA_PURPOSE, DataKey.is_primary.is_(True))).scalar_one_or_none()
        if primary_id is None or primary_id not in self._keys:
            self.load()
        else:
            self._primary_id, self._checked = primary_id, time.monotonic()

    def key(self, key_id):
        """The raw data key with this id (reloading once if unknown), or None."""
        if key_id not in self._keys:
            self.load()  # another process may have added it (rotation)
        return self._keys.get(key_id)

    def index_keys_for_writing(self, name):
        """The live keys of blind index `name`, its primary key created first if it has none."""
        keys = self.index_keys(name)
        if not keys or not keys[0][2]:
            ensure_index_key(name)
            keys = self.index_keys(name)
        return keys

    def index_keys(self, name):
        """The live keys of blind index `name` as [(key id, key, is primary)], primary first."""
        cached = self._index.get(name)
        if cached is not None and time.monotonic() - cached[0] <= KEY_CACHE_SECONDS:
            return cached[1]
        rows = db.session.execute(select(DataKey).where(
            DataKey.purpose == index_purpose(name), DataKey.retired_at.is_(None))
            .order_by(DataKey.is_primary.desc(), DataKey.created_at.desc())).scalars()
        keys = [(key.id, self.unwrap_stored(key), key.is_primary) for key in rows]
        if keys:  # an empty answer is not cached: another process may create the key any moment
            self._index[name] = (time.monotonic(), keys)
        return keys

    def forget(self):
        """Drop every cached key: the next use reloads them."""
        self._keys, self._primary_id, self._checked, self._index = {}, None, 0.0, {}

    def wrap(self, raw_key):
        """Wrap a raw key with the KEK."""
        return aes_key_wrap(self.kek, raw_key)

    def unwrap(self, wrapped):
        """Unwrap a key wrapped with the KEK."""
        return aes_key_unwrap(self.kek, wrapped)
