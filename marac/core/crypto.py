"""Field-level encryption: AES-256-GCM with envelope keys and row binding.

A stored value is ``version (1 byte) | data key id (16 bytes) | nonce (12 bytes) | ciphertext+tag``.
The associated data names the table, the column and the row id, so a value copied into another row
or column fails to decrypt instead of yielding someone else's data. Data keys live in the database
only wrapped (RFC 3394 AES key wrap) by the key-encryption key (KEK), which never does.

A model declares an encrypted attribute in one line, ``totp_secret = Encrypted(str)``, and reads
and writes plain Python values; the ciphertext sits in a column of the same name.
"""
import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import LargeBinary
from sqlalchemy.orm import mapped_column

from marac.core.disclosure import note_read

FORMAT_VERSION = 1
HEADER_LEN = 1 + 16 + 12


class DecryptionError(Exception):
    """A stored value could not be decrypted. Names the place, never the content."""

    def __init__(self, table, column, row_id, reason):
        self.table, self.column, self.row_id, self.reason = table, column, row_id, reason
        super().__init__(f"cannot decrypt {table}.{column} of row {row_id}: {reason}")


class KeyUnavailable(Exception):
    """A key needed for encryption is missing or unusable."""


def decode_key(text):
    """A 256-bit key from its base64 text form."""
    raw = base64.b64decode(text)
    if len(raw) != 32:
        raise KeyUnavailable("a key must be 32 bytes (256 bits), base64-encoded")
    return raw


def kek_fingerprint(kek):
    """A short public name for a KEK, stored beside each wrapped key to say which KEK wrapped it."""
    return hmac.new(kek, b"marac key-encryption key id", hashlib.sha256).hexdigest()[:16]


def associated_data(table, column, row_id):
    """The AES-GCM associated data that binds a value to its table, column and row."""
    return f"marac:v{FORMAT_VERSION}|{table}|{column}|{row_id}".encode()


BYTES_TAG = b"B"  # bytes are stored raw after this tag; JSON (every other kind) starts with "["


def serialise(value, kind):
    """A plain value as tagged JSON bytes, so that dates and structures survive the round trip.
    Bytes (a rendered document) are stored as they are after a one-byte tag: no base64 or JSON."""
    if kind is bytes:
        return BYTES_TAG + bytes(value)
    if kind is str:
        payload = ["s", value]
    elif kind is dt.date:
        payload = ["d", value.isoformat()]
    elif kind in (list, dict):
        payload = ["j", value]
    else:
        raise TypeError(f"unsupported encrypted kind {kind!r}")
    return json.dumps(payload, separators=(",", ":")).encode()


def deserialise(raw):
    """The plain value of serialise()'s bytes."""
    if raw[:1] == BYTES_TAG:
        return bytes(raw[1:])
    tag, value = json.loads(raw.decode())
    if tag == "d":
        return dt.date.fromisoformat(value)
    return value


def key_id_of(blob):
    """The id of the data key that encrypted a stored value."""
    if not blob or blob[0] != FORMAT_VERSION or len(blob) < HEADER_LEN + 16:
        return None
    return uuid.UUID(bytes=bytes(blob[1:17]))


def keyring():
    """The process's key ring, installed by create_app (marac.keys.keyring.KeyRing): it answers
    primary(), key(key_id) and index_keys(name), so that this module never reads the key table."""
    return current_app.extensions["marac_keyring"]


def seal(plain, table, column, row_id, ring=None):
    """Encrypt serialised bytes under the primary data key, bound to the table, column and row."""
    ring = ring or keyring()
    key_id, key = ring.primary()
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plain, associated_data(table, column, row_id))
    return bytes([FORMAT_VERSION]) + key_id.bytes + nonce + sealed


def unseal(blob, table, column, row_id, ring=None):
    """The serialised bytes of a stored value; raises DecryptionError naming the place."""
    ring = ring or keyring()
    key_id = key_id_of(blob)
    if key_id is None:
        raise DecryptionError(table, column, row_id, "not a recognised ciphertext")
    key = ring.key(key_id)
    if key is None:
        raise DecryptionError(table, column, row_id, f"unknown or retired data key {key_id}")
    nonce = bytes(blob[17:HEADER_LEN])
    try:
        return AESGCM(key).decrypt(nonce, bytes(blob[HEADER_LEN:]), associated_data(table, column, row_id))
    except Exception:  # InvalidTag: altered, or bound to another row or column
        raise DecryptionError(table, column, row_id, "authentication failed") from None


def encrypt_value(value, kind, table, column, row_id, ring=None):
    """A plain value sealed for its table, column and row."""
    return seal(serialise(value, kind), table, column, row_id, ring)


def decrypt_value(blob, table, column, row_id, ring=None):
    """The plain value of a sealed one; DecryptionError names the place if it will not open."""
    return deserialise(unseal(blob, table, column, row_id, ring))


class Encrypted:
    """Declare an encrypted attribute: ``name = Encrypted(str)`` (or dt.date, list, dict, bytes).

    Adds a binary column of the same name, mapped to ``_enc_<name>``, and reads and writes plain
    values through this descriptor. Decrypted values are cached on the instance per ciphertext.
    """

    registry = []  # (model class, attribute name) of every encrypted attribute

    def __init__(self, kind, nullable=True, deferred=False, personal=True):
        self.kind = kind
        self.nullable = nullable
        self.deferred = deferred  # a large value (a PDF) is loaded only when it is read
        # Personal data: each read in a request must be declared (core.disclosure). A secret that is
        # not about a person (an authenticator seed) says personal=False.
        self.personal = personal

    def __set_name__(self, owner, name):
        self.name = name
        self.column_attr = f"_enc_{name}"
        setattr(owner, self.column_attr, mapped_column(name, LargeBinary, nullable=self.nullable,
                                                      deferred=self.deferred))
        Encrypted.registry.append((owner, name))

    def _cache_key(self):
        return f"_plain_{self.name}"

    def __get__(self, instance, owner):
        if instance is None:
            return self
        blob = getattr(instance, self.column_attr)
        if blob is None:
            return None
        if self.personal:
            note_read(instance.__table__.name, self.name)
        cached = instance.__dict__.get(self._cache_key())
        if cached is not None and cached[0] == blob:
            return cached[1]
        value = decrypt_value(blob, instance.__table__.name, self.name, instance.id)
        instance.__dict__[self._cache_key()] = (blob, value)
        return value

    def __set__(self, instance, value):
        if value is None:
            setattr(instance, self.column_attr, None)
            instance.__dict__.pop(self._cache_key(), None)
            return
        if instance.id is None:
            raise ValueError("an encrypted value needs the row id first")
        blob = encrypt_value(value, self.kind, instance.__table__.name, self.name, instance.id)
        setattr(instance, self.column_attr, blob)
        instance.__dict__[self._cache_key()] = (blob, value)
