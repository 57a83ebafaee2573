"""The audit trail: append-only, and every kind of tampering is found by `flask audit verify`."""
import threading
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from config import TestConfig
from marac import create_app
from marac.audit.models import AuditChainHead, AuditEvent, AuditEventRef
from marac.audit.services import PENDING, ChainBroken, record, verify
from marac.extensions import db
from tests.helpers import migrate_fresh, scratch_database_url, sign_in


def append(n):
    for i in range(n):
        record("test.event", object_type="probe", object_id=str(i), detail={"n": i})
    db.session.commit()


def without_triggers(statement, **params):
    """Run a statement as someone with direct database access would, bypassing the triggers."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        db.session.execute(text("DROP TRIGGER audit_events_no_update"))
        db.session.execute(text("DROP TRIGGER audit_events_no_delete"))
    else:
        db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    db.session.execute(text(statement), params)


def head():
    return db.session.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()


def test_a_clean_chain_verifies(app):
    append(5)
    count, seq, hash_ = verify()
    assert seq == head() and count == seq and len(hash_) == 64


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'auth.sign_in' WHERE seq = :seq",
    "DELETE FROM audit_events WHERE seq = :seq",
])
def test_update_and_delete_are_refused(app, statement):
    append(3)
    with pytest.raises(DatabaseError) as error:
        with db.session.begin_nested():
            db.session.execute(text(statement), {"seq": head() - 1})
    assert "append-only" in str(error.value)


def test_truncate_is_refused_on_postgresql(app):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    append(2)
    with pytest.raises(DatabaseError):
        with db.session.begin_nested():
            db.session.execute(text("TRUNCATE audit_events"))


def test_an_edited_event_is_found(app):
    append(6)
    target = head() - 3
    without_triggers("UPDATE audit_events SET detail = '{\"n\": 99}' WHERE seq = :seq", seq=target)
    with pytest.raises(ChainBroken) as broken:
        verify()
    assert broken.value.seq == target


def test_a_deleted_event_is_found(app):
    append(6)
    target = head() - 2
    without_triggers("DELETE FROM audit_events WHERE seq = :seq", seq=target)
    with pytest.raises(ChainBroken) as broken:
        verify()
    assert broken.value.seq == target and "missing" in broken.value.reason


def test_reordered_events_are_found(app):
    append(6)
    a, b = head() - 3, head() - 2
    without_triggers("UPDATE audit_events SET seq = -1 WHERE seq = :a", a=a)
    db.session.execute(text("UPDATE audit_events SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    db.session.execute(text("UPDATE audit_events SET seq = :b WHERE seq = -1"), {"b": b})
    with pytest.raises(ChainBroken) as broken:
        verify()
    assert broken.value.seq == a


def test_an_inserted_event_is_found(app):
    append(4)
    last = head()
    # A forger appends a row that copies the last hash as its predecessor but cannot compute the HMAC.
    previous = db.session.execute(text("SELECT hash FROM audit_events WHERE seq = :s"), {"s": last}).scalar_one()
    db.session.execute(text(
        "INSERT INTO audit_events (seq, occurred_at, action, detail, prev_hash, hash) "
        "VALUES (:seq, CURRENT_TIMESTAMP, 'auth.sign_in', '{}', :prev, :hash)"),
        {"seq": last + 1, "prev": previous, "hash": "f" * 64})
    db.session.execute(text("UPDATE audit_chain_head SET seq = :s, hash = :h"), {"s": last + 1, "h": "f" * 64})
    with pytest.raises(ChainBroken) as broken:
        verify()
    assert broken.value.seq == last + 1


def test_a_truncated_tail_is_found_with_a_recorded_head(app):
    append(6)
    recorded = (head(), db.session.get(AuditChainHead, 1).hash)
    cut = recorded[0] - 2
    without_triggers("DELETE FROM audit_events WHERE seq > :cut", cut=cut)
    kept = db.session.execute(text("SELECT hash FROM audit_events WHERE seq = :s"), {"s": cut}).scalar_one()
    db.session.execute(text("UPDATE audit_chain_head SET seq = :s, hash = :h"), {"s": cut, "h": kept})
    assert verify()[1] == cut  # the shortened chain is consistent in itself...
    with pytest.raises(ChainBroken):
        verify(head=recorded)  # ...but it no longer reaches the head recorded outside the database


def test_cli_verify_and_head(app):
    append(3)
    runner = app.test_cli_runner()
    head_line = runner.invoke(args=["audit", "head"]).output.strip()
    result = runner.invoke(args=["audit", "verify", "--head", head_line])
    assert result.exit_code == 0 and "OK" in result.output
    without_triggers("UPDATE audit_events SET action = 'x.y' WHERE seq = :s", s=head() - 1)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"event {head() - 1}" in result.output


@pytest.mark.no_db_transaction
def test_concurrent_writers_make_one_valid_chain(tmp_path):
    """8 writers appending at once (each in its own transaction and connection) leave one valid chain;
    the events of the transactions that roll back (one in five) are not in it."""
    url = scratch_database_url("concurrency", tmp_path)
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url,
                                            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10}
                                            if url.startswith("postgresql") else {"connect_args": {"timeout": 60}}})
    migrate_fresh(app)
    errors = []
    start = threading.Barrier(8)

    def writer(n):
        try:
            with app.app_context():
                start.wait()
                for i in range(25):
                    record("test.concurrent", object_type="writer", object_id=str(n), detail={"i": i})
                    if i % 5 == 4:
                        db.session.rollback()
                    else:
                        db.session.commit()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with app.app_context():
        count, seq, _ = verify()
        writes = db.session.execute(text(
            "SELECT count(*) FROM audit_events WHERE action = 'test.concurrent'")).scalar_one()
        db.session.remove()
        db.engine.dispose()
    assert writes == 160 and seq == count


# --- the head is locked at the commit, not at record() -----------------------------------------

def probe_events():
    return db.session.execute(text(
        "SELECT object_id FROM audit_events WHERE object_type = 'probe' ORDER BY seq")).scalars().all()


def test_an_event_is_appended_at_the_commit_and_the_head_is_free_until_then(app):
    before = head()
    event = record("test.event", object_type="probe", object_id="a")
    assert event.seq is None and db.session.info[PENDING]
    if db.session.get_bind().dialect.name == "postgresql":
        # Another transaction can take the head while this one goes on (SQLite: BEGIN IMMEDIATE
        # already gives each transaction the whole database).
        with db.engine.connect() as other:
            assert other.execute(text("SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE NOWAIT")).scalar_one() \
                == before
            other.rollback()
    db.session.commit()
    assert event.seq == before + 1 and len(event.hash) == 64 and not db.session.info.get(PENDING)
    assert verify()[1] == event.seq


def test_a_transaction_sees_its_own_events_before_the_commit(app):
    record("test.event", object_type="probe", object_id="a")
    record("test.event", object_type="probe", object_id="b")
    assert probe_events() == ["a", "b"]  # a statement on the audit tables appends them first
    assert not db.session.info.get(PENDING)
    # ORM statements too, whether the audit table is the entity, inside a function or in a subquery
    case_id = uuid.uuid4()
    event = record("test.event", object_type="probe", object_id=str(case_id))
    assert db.session.execute(select(func.max(AuditEvent.seq))).scalar_one() == event.seq
    event = record("test.event", object_type="probe", object_id=str(case_id))
    assert db.session.execute(select(AuditEvent.seq).where(AuditEvent.seq.in_(
        select(AuditEventRef.seq).where(AuditEventRef.ref_id == case_id)))).scalars().all()[-1] == event.seq
    db.session.commit()
    assert verify()[0] == head()


def test_an_event_is_what_was_recorded_even_if_its_detail_changes_before_the_commit(app):
    cases = ["first"]
    event = record("test.event", object_type="probe", object_id="a", detail={"cases": cases})
    cases.append("second")
    db.session.commit()
    assert event.detail == {"cases": ["first"]}
    verify()


def test_events_go_with_a_rollback(app):
    before = head() or 0
    record("test.event", object_type="probe", object_id="gone")
    db.session.rollback()
    db.session.commit()
    assert (head() or 0) == before and probe_events() == []


def test_events_go_with_a_rolled_back_savepoint_and_stay_with_a_committed_one(app):
    record("test.event", object_type="probe", object_id="outer")
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            record("test.event", object_type="probe", object_id="undone")
            with db.session.begin_nested():
                record("test.event", object_type="probe", object_id="undone-inner")
            raise RuntimeError("refused")
    with db.session.begin_nested():
        record("test.event", object_type="probe", object_id="kept")
    assert db.session.info[PENDING]  # a savepoint's commit leaves them to the transaction's
    db.session.commit()
    assert probe_events() == ["outer", "kept"]
    verify()


def test_a_page_view_commits_its_read_event(app, world):
    """The event a page records of its read is appended and committed with the request."""
    client = app.test_client()
    sign_in(client, world.users["chair"])
    before = head()
    assert client.get(f"/cases/{world.accepted.id}").status_code == 200
    assert not db.session.info.get(PENDING)
    events = db.session.execute(text("SELECT action FROM audit_events WHERE seq > :s"), {"s": before}).scalars().all()
    assert "case.viewed" in events
    verify()
