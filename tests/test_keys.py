"""Field encryption and key management: row/column binding, rotation (interrupted, concurrent),
retiring, status, verify and changing the key-encryption key."""
import base64
import os
import uuid

import pytest
from sqlalchemy import func, select, update

from marac.audit.models import AuditEvent
from marac.core.blind_index import blind_index
from marac.core.crypto import DecryptionError, KeyUnavailable, decrypt_value, kek_fingerprint, key_id_of
from marac.keys.keyring import KeyRing
from marac.extensions import db
from marac.keys import rotation
from marac.keys.models import DataKey
from marac.keys.services import primary_key
from marac.users.models import User
from tests.factories import UserFactory


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["keys", *args])

    return invoke


def stored(user):
    """The ciphertext as stored, read past the ORM."""
    return bytes(db.session.execute(select(User.__table__.c.totp_secret).where(User.__table__.c.id == user.id))
                 .scalar_one())


def store(user, blob):
    """Write a ciphertext past the ORM, as an attacker with database access could."""
    db.session.execute(update(User.__table__).where(User.__table__.c.id == user.id).values(totp_secret=blob))
    db.session.expire_all()


def secrets_of(users):
    db.session.expire_all()
    return {user.id: db.session.get(User, user.id).totp_secret for user in users}


def data_keys():
    return db.session.execute(select(DataKey).where(DataKey.purpose == "data")
                              .order_by(DataKey.created_at)).scalars().all()


def under(key_id):
    """How many stored totp_secret values name this key in their header."""
    return sum(1 for (blob,) in db.session.execute(select(User.__table__.c.totp_secret))
               if blob is not None and key_id_of(bytes(blob)) == key_id)


def actions():
    return [event.action for event in db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]


# --- binding to the row and column -----------------------------------------------------------

def test_value_swapped_between_rows_does_not_decrypt():
    alice, bob = UserFactory(), UserFactory()
    alice_blob, bob_blob = stored(alice), stored(bob)
    store(alice, bob_blob)
    store(bob, alice_blob)
    for user in (alice, bob):
        with pytest.raises(DecryptionError) as caught:
            db.session.get(User, user.id).totp_secret
        assert caught.value.reason == "authentication failed"
        assert (caught.value.table, caught.value.column, caught.value.row_id) == ("users", "totp_secret", user.id)


def test_value_moved_to_another_column_or_table_does_not_decrypt():
    user = UserFactory()
    blob = stored(user)
    assert decrypt_value(blob, "users", "totp_secret", user.id) == user.totp_secret
    with pytest.raises(DecryptionError):
        decrypt_value(blob, "users", "recovery_codes", user.id)
    with pytest.raises(DecryptionError):
        decrypt_value(blob, "people", "totp_secret", user.id)


@pytest.mark.parametrize("position", ["key id", "nonce", "ciphertext", "tag"])
def test_flipped_bit_does_not_decrypt(position):
    user = UserFactory()
    blob = bytearray(stored(user))
    index = {"key id": 5, "nonce": 20, "ciphertext": 30, "tag": len(blob) - 1}[position]
    blob[index] ^= 0x01
    store(user, bytes(blob))
    with pytest.raises(DecryptionError):
        db.session.get(User, user.id).totp_secret


def test_error_names_the_place_never_the_content():
    user = UserFactory()
    secret = user.totp_secret
    blob = stored(user)
    store(user, blob[:-1] + bytes([blob[-1] ^ 0x80]))
    with pytest.raises(DecryptionError) as caught:
        db.session.get(User, user.id).totp_secret
    assert secret not in str(caught.value)
    assert str(user.id) in str(caught.value)


# --- rotation --------------------------------------------------------------------------------

def test_rotate_re_encrypts_every_value_under_a_new_primary(cli):
    users = UserFactory.create_batch(5) + [UserFactory(mfa=False)]
    before = secrets_of(users)
    old = primary_key()
    result = cli("rotate", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    new = primary_key()
    assert new.id != old.id and new.is_primary and not db.session.get(DataKey, old.id).is_primary
    assert f"New primary data key {new.id}" in result.output
    assert secrets_of(users) == before
    assert under(old.id) == 0
    assert under(new.id) == db.session.execute(
        select(func.count()).where(User.__table__.c.totp_secret.is_not(None))).scalar_one()
    assert db.session.get(User, users[-1].id).totp_secret is None
    assert "keys.created" in actions() and actions()[-1] == "keys.rotated"
    event = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
    assert event.object_id == str(new.id) and event.detail["remaining"] == 0 and event.detail["failed"] == 0
    assert not any(secret in str(event.detail) for secret in before.values() if secret)


def test_interrupted_rotation_resumes_without_another_key(cli, monkeypatch):
    users = UserFactory.create_batch(3)
    before = secrets_of(users)
    calls = {"n": 0}
    real_batch = rotation.reencrypt_batch

    def crash_after_first_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(rotation, "reencrypt_batch", crash_after_first_batch)
    result = cli("rotate", "--batch-size", "1")
    assert isinstance(result.exception, RuntimeError)
    db.session.rollback()  # what the crashed process's transaction does
    monkeypatch.undo()

    old, new = data_keys()[-2:]
    assert new.is_primary and under(new.id) >= 1 and under(old.id) >= 1  # the first batch was kept
    key_count = len(data_keys())

    result = cli("rotate", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert "Resuming" in result.output
    assert len(data_keys()) == key_count
    assert primary_key().id == new.id
    assert under(old.id) == 0
    assert secrets_of(users) == before

    result = cli("rotate")  # nothing left under an older key: a genuinely new rotation
    assert result.exit_code == 0 and "New primary" in result.output
    assert len(data_keys()) == key_count + 1


def test_concurrent_edit_between_batches_is_kept_and_readable(app):
    users = sorted(UserFactory.create_batch(3), key=lambda u: str(u.id))
    before = secrets_of(users)
    key, resumed = rotation.start_rotation()
    db.session.commit()
    (target,) = [t for t in rotation.encrypted_targets() if t.table.name == "users"]
    first = rotation.reencrypt_batch(target, key.id, None, 1)
    assert first.done == 1

    # Meanwhile the application reads every user (some under each key) and changes one secret.
    assert secrets_of(users) == before
    edited = db.session.get(User, users[-1].id)
    edited.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    db.session.commit()

    after = first.last_id
    while True:
        batch = rotation.reencrypt_batch(target, key.id, after, 1)
        db.session.commit()
        if not batch.rows:
            break
        after = batch.last_id
    now = secrets_of(users)
    assert now[users[-1].id] == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert {k: v for k, v in now.items() if k != users[-1].id} == \
        {k: v for k, v in before.items() if k != users[-1].id}
    assert all(key_id_of(stored(user)) == key.id for user in users)


def test_value_changed_after_the_batch_read_it_is_not_overwritten(app):
    """The compare-and-swap: the batch read the old ciphertext, then the application wrote."""
    user, other = UserFactory(), UserFactory()
    old_key = primary_key()
    key, _ = rotation.start_rotation()
    db.session.commit()
    (target,) = [t for t in rotation.encrypted_targets() if t.table.name == "users"]
    rows = rotation.pending(target, key.id)
    assert {row_id for row_id, _ in rows} >= {user.id, other.id}

    # A process that has not yet noticed the new primary writes under the old key.
    stale = KeyRing(app.extensions["marac_keyring"].kek)
    stale.load()
    stale._primary_id = old_key.id
    from marac.core.crypto import encrypt_value
    store(user, encrypt_value("NEWSECRETNEWSECRET", str, "users", "totp_secret", user.id, ring=stale))

    result = rotation.reencrypt_rows(target, rows)
    assert result.skipped == 1 and result.done == len(rows) - 1
    assert db.session.get(User, user.id).totp_secret == "NEWSECRETNEWSECRET"
    assert key_id_of(stored(user)) == old_key.id  # left as written: a later run picks it up
    assert key_id_of(stored(other)) == key.id
    assert rotation.values_not_under(key.id) == 1
    rotation.reencrypt_all(key.id)
    assert key_id_of(stored(user)) == key.id
    assert db.session.get(User, user.id).totp_secret == "NEWSECRETNEWSECRET"


def test_rotation_reports_a_value_it_cannot_decrypt(cli):
    good, bad = UserFactory(), UserFactory()
    secret = bad.totp_secret
    store(bad, stored(bad)[:-1] + bytes([stored(bad)[-1] ^ 1]))
    result = cli("rotate")
    assert result.exit_code == 1
    assert f"users.totp_secret row {bad.id}: authentication failed" in result.output
    assert secret not in result.output
    assert "Run `flask keys rotate` again" in result.output
    assert key_id_of(stored(good)) == primary_key().id


# --- retiring --------------------------------------------------------------------------------

def test_retire_refuses_while_in_use_and_succeeds_after(cli, clock):
    users = UserFactory.create_batch(3)
    old = primary_key()

    result = cli("retire", str(old.id))
    assert result.exit_code == 1 and "is the primary key" in result.output

    key, _ = rotation.start_rotation()
    db.session.commit()
    (target,) = [t for t in rotation.encrypted_targets() if t.table.name == "users"]
    rotation.reencrypt_batch(target, key.id, None, 1)
    db.session.commit()
    result = cli("retire", str(old.id))
    assert result.exit_code == 1 and "still protects" in result.output
    assert db.session.get(DataKey, old.id).retired_at is None

    assert cli("rotate").exit_code == 0
    result = cli("retire", str(old.id))
    assert result.exit_code == 1 and "try again" in result.output  # processes may still use it

    clock(minutes=11)
    result = cli("retire", str(old.id))
    assert result.exit_code == 0, result.output
    assert db.session.get(DataKey, old.id).retired_at is not None
    assert actions()[-1] == "keys.retired"
    ring = app_ring()
    assert ring.key(old.id) is None  # no longer loaded
    assert secrets_of(users)  # everything still reads

    assert cli("retire", str(old.id)).exit_code == 1  # already retired
    assert cli("retire", str(key.id)).exit_code == 1  # the primary
    assert cli("retire", str(uuid.uuid4())).exit_code == 1
    assert cli("retire", "not-a-uuid").exit_code == 2


def app_ring():
    from marac.core.crypto import keyring

    ring = keyring()
    ring.forget()
    return ring


# --- status and verify -----------------------------------------------------------------------

def test_status_counts_values_per_key_table_and_column(cli):
    baseline = under(primary_key().id)
    UserFactory.create_batch(3)
    UserFactory(mfa=False)
    old = primary_key()
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert f"data key {old.id} (primary" in result.output
    assert f"  users.totp_secret: {baseline + 3}" in result.output
    assert actions()[-1] == "keys.status_read"

    key, _ = rotation.start_rotation()
    db.session.commit()
    (target,) = [t for t in rotation.encrypted_targets() if t.table.name == "users"]
    rotation.reencrypt_batch(target, key.id, None, 2)
    db.session.commit()
    usage = rotation.values_by_key()[("users", "totp_secret")]
    assert usage[key.id] == 2 and usage[old.id] == baseline + 1
    output = cli("status").output
    new_section = output.split(f"data key {key.id}")[1]
    old_section = output.split(f"data key {old.id}")[1].split("data key")[0]
    assert "users.totp_secret: 2" in new_section
    assert f"users.totp_secret: {baseline + 1}" in old_section


def test_status_reports_values_under_unknown_keys():
    user = UserFactory()
    blob = stored(user)
    stranger = uuid.uuid4()
    store(user, blob[:1] + stranger.bytes + blob[17:])
    usage = rotation.values_by_key()[("users", "totp_secret")]
    assert usage[stranger] == 1


def test_verify_passes_then_names_a_corrupted_value_without_its_content(cli):
    users = UserFactory.create_batch(3)
    result = cli("verify")
    assert result.exit_code == 0, result.output
    assert "OK:" in result.output

    victim = users[1]
    secret = victim.totp_secret
    blob = bytearray(stored(victim))
    blob[-3] ^= 0x40
    store(victim, bytes(blob))
    result = cli("verify")
    assert result.exit_code == 1
    assert f"FAIL users.totp_secret row {victim.id}: authentication failed" in result.output
    assert "failed to decrypt: 1 of" in result.output
    assert secret not in result.output and bytes(blob).hex() not in result.output
    assert str(users[0].id) not in result.output
    event = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
    assert event.action == "keys.verified" and event.detail["failures"] == 1


def test_verify_reports_a_value_under_a_retired_key(cli):
    user = UserFactory()
    old = primary_key()
    rotation.start_rotation()
    db.session.commit()
    db.session.get(DataKey, old.id).retired_at = old.created_at  # retired by hand, values left behind
    db.session.flush()
    result = cli("verify")
    assert result.exit_code == 1
    assert f"row {user.id}: unknown or retired data key {old.id}" in result.output


# --- the key-encryption key ------------------------------------------------------------------

def test_rotate_kek_rewraps_keys_and_only_the_new_kek_decrypts(app, cli, tmp_path, monkeypatch):
    users = UserFactory.create_batch(2)
    before = secrets_of(users)
    index_tag = blind_index("test_rewrap", "Jane Doe")
    blobs = {user.id: stored(user) for user in users}
    old_kek = app.extensions["marac_keyring"].kek
    new_kek = os.urandom(32)
    path = tmp_path / "new.kek"
    path.write_text(base64.b64encode(new_kek).decode() + "\n")

    result = cli("rotate-kek", "--new-kek-file", str(path))
    assert result.exit_code == 0, result.output
    assert "MARAC_KEK" in result.output and "MARAC_KEK_FILE" in result.output
    keys = db.session.execute(select(DataKey)).scalars().all()
    assert {key.kek_id for key in keys} == {kek_fingerprint(new_kek)}
    assert {user.id: stored(user) for user in users} == blobs  # values untouched
    assert actions()[-1] == "keys.kek_rotated"

    new_ring = KeyRing(new_kek)
    for user in users:
        assert decrypt_value(blobs[user.id], "users", "totp_secret", user.id, ring=new_ring) == before[user.id]
    with pytest.raises(KeyUnavailable):
        KeyRing(old_kek).load()
    with pytest.raises(KeyUnavailable):
        decrypt_value(blobs[users[0].id], "users", "totp_secret", users[0].id, ring=KeyRing(old_kek))

    monkeypatch.setitem(app.extensions, "marac_keyring", new_ring)
    assert secrets_of(users) == before  # the application, configured with the new KEK
    assert blind_index("test_rewrap", "Jane Doe") == index_tag  # same index key, re-wrapped
    assert cli("verify").exit_code == 0


def test_rotate_kek_refuses_a_bad_file_or_the_same_kek(app, cli, tmp_path):
    bad = tmp_path / "bad.kek"
    bad.write_text("not base64 at all")
    result = cli("rotate-kek", "--new-kek-file", str(bad))
    assert result.exit_code == 1 and "32-byte key" in result.output
    same = tmp_path / "same.kek"
    same.write_text(base64.b64encode(app.extensions["marac_keyring"].kek).decode())
    result = cli("rotate-kek", "--new-kek-file", str(same))
    assert result.exit_code == 1 and "configured now" in result.output


def test_generate_kek_prints_a_new_key(cli, tmp_path):
    result = cli("generate-kek")
    assert result.exit_code == 0
    assert len(base64.b64decode(result.output.strip())) == 32
    assert cli("generate-kek").output != result.output
    assert actions()[-1] == "keys.kek_generated"
    out = tmp_path / "kek"
    result = cli("generate-kek", "--out", str(out))
    assert result.exit_code == 0 and len(base64.b64decode(out.read_text())) == 32
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.read_text().strip() not in result.output
    assert cli("generate-kek", "--out", str(out)).exit_code == 1  # never overwrites


# --- the key ring ----------------------------------------------------------------------------

def test_key_ring_notices_a_new_primary_made_elsewhere(app, monkeypatch):
    from marac.keys import keyring
    from marac.keys.services import create_key

    ring = app.extensions["marac_keyring"]
    first, _ = ring.primary()
    other_process = KeyRing(ring.kek)
    monkeypatch.setitem(app.extensions, "marac_keyring", other_process)
    newer = create_key("data")
    monkeypatch.undo()
    assert ring.primary()[0] == first  # cached for a while
    monkeypatch.setattr(keyring, "KEY_CACHE_SECONDS", -1)
    assert ring.primary()[0] == newer.id
