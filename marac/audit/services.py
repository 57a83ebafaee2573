"""record() appends one event to the chain in the caller's transaction; verify() checks the chain.

Each event's hash is an HMAC (key outside the database) over the previous hash and the event's
canonical form, so an edited, deleted, inserted or reordered event breaks the chain from there on.
Appends lock the single chain-head row (SELECT ... FOR UPDATE on PostgreSQL; SQLite transactions
are BEGIN IMMEDIATE, so the writer already holds the database lock).

The lock is taken as late as possible. record() keeps the event with the session's transaction
(session.info[PENDING]) and the transaction appends its events when it commits (before_commit,
after the transaction's other writes are flushed), so the head is locked for the commit only, not
for the rest of the request: every page that shows personal data records a read first and renders
after, and with the lock taken at record() concurrent page views waited for each other's renders
(benchmarks/audit_page_hold.py and audit_concurrency.py; docs/deployment.md). The events still commit in the transaction of the change they
record, or roll back with it (a savepoint rolled back takes the events recorded in it). A statement
that reads or writes the audit tables appends the pending events first (do_orm_execute), so a
transaction sees its own events as it did when record() wrote at once.
"""
import hashlib
import hmac
import json
import uuid

from flask import current_app, g, has_request_context
from flask_login import current_user
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.util import find_tables

from marac.audit.models import AuditChainHead, AuditEvent, AuditEventRef
from marac.core.disclosure import declare
from marac.core.timeutil import utcnow
from marac.extensions import db

GENESIS_HASH = "0" * 64
PENDING = "marac_audit_pending"  # session.info: [(savepoint or None, event)] not yet appended
AUDIT_TABLES = frozenset({"audit_events", "audit_event_refs", "audit_chain_head"})
SAFE_DETAIL_TYPES = (str, int, float, bool, type(None))


def _audit_key():
    return current_app.config["MARAC_AUDIT_KEY"].encode()


def canonical(event):
    """The exact bytes that an event's hash covers."""
    fields = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_user_id": str(event.actor_user_id) if event.actor_user_id else None,
        "actor_agency_id": str(event.actor_agency_id) if event.actor_agency_id else None,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "recipient_agency_id": str(event.recipient_agency_id) if event.recipient_agency_id else None,
        "purpose": event.purpose,
        "client_addr": event.client_addr,
        "detail": event.detail or {},
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def chain_hash(key, prev_hash, event):
    """The HMAC of an event chained to the hash of the event before it."""
    return hmac.new(key, prev_hash.encode() + b"\n" + canonical(event), hashlib.sha256).hexdigest()


def _check_detail(detail):
    for name, value in detail.items():
        if not isinstance(value, SAFE_DETAIL_TYPES) and not (
            isinstance(value, list) and all(isinstance(v, SAFE_DETAIL_TYPES) for v in value)
        ):
            raise TypeError(f"audit detail {name!r} must be a plain value")
    return detail


def record(action, actor=None, target=None, *, object_type=None, object_id=None,
           recipient_agency_id=None, purpose=None, detail=None):
    """Record an event in the current transaction: it is appended to the chain when the transaction
    commits (or when the transaction next touches the audit tables), and rolls back with it.
    `target` is any model with an id. The event returned has its seq and hash once appended.

    `detail` holds field names, counts and codes; never personal data.
    """
    if target is not None:
        object_type = object_type or target.__tablename__
        object_id = object_id or str(target.id)
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_user_id=getattr(actor, "id", None),
        actor_agency_id=getattr(actor, "agency_id", None),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        recipient_agency_id=recipient_agency_id,
        purpose=purpose,
        client_addr=g.get("client_addr") if has_request_context() else None,
        # a copy, lists included: the event is hashed at the commit, over what was recorded now
        detail=_check_detail({k: list(v) if isinstance(v, list) else v for k, v in (detail or {}).items()}),
    )
    session = db.session()
    session.connection()  # the event belongs to this transaction: begin it if none has begun
    session.info.setdefault(PENDING, []).append((session.get_nested_transaction(), event))
    session.info["written"] = True  # the request commits (core.steps.commit_at_edge)
    return event


def append_pending(session=None):
    """Append the session's recorded events to the chain now, under the chain-head lock (held from
    here to the end of the transaction). The commit does this; call it only where an event's seq is
    needed before the commit (a statement on the audit tables does it by itself)."""
    session = session or db.session()
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    head = session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    key, refs = _audit_key(), []
    for _, event in pending:
        event.seq, event.prev_hash = head.seq + 1, head.hash
        event.hash = chain_hash(key, head.hash, event)
        head.seq, head.hash = event.seq, event.hash
        session.add(event)
        refs += [{"ref_id": ref, "seq": event.seq} for ref in sorted(refs_of(event.object_id, event.detail))]
    session.flush()
    if refs:
        session.execute(insert(AuditEventRef), refs)


@sa_event.listens_for(Session, "before_commit")
def _append_at_commit(session):
    """The commit appends the transaction's events: its own writes are flushed first, so the chain
    head is the last lock the transaction takes. A savepoint's commit leaves them to the outer one."""
    if session.info.get(PENDING) and not session.in_nested_transaction():
        session.flush()
        append_pending(session)


@sa_event.listens_for(Session, "do_orm_execute")
def _append_before_audit_statement(state):
    """A statement on the audit tables sees the transaction's own events (as autoflush does for rows).
    Lazy loads are let through unexamined: no relationship leads to the audit tables."""
    if (state.session.info.get(PENDING) and not state.is_relationship_load and not state.is_column_load
            and _touches_audit(state.statement)):
        append_pending(state.session)


def _touches_audit(statement):
    if isinstance(statement, TextClause):
        return "audit_" in statement.text
    return any(getattr(table, "name", None) in AUDIT_TABLES
               for table in find_tables(statement, check_columns=True, include_crud=True))


@sa_event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session):
    """Events recorded in a transaction or savepoint that rolls back go with it (savepoints within
    it have closed already and handed theirs to it: _hand_up)."""
    pending = session.info.get(PENDING)
    if pending:
        savepoint = session.get_nested_transaction()  # the one rolling back; None: the whole transaction
        kept = [(t, e) for t, e in pending if savepoint is not None and not _within(t, savepoint)]
        session.info[PENDING] = kept


def _within(transaction, savepoint):
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


@sa_event.listens_for(Session, "after_transaction_end")
def _hand_up(session, transaction):
    """A savepoint that committed hands its events to the transaction around it; the end of the
    outermost transaction leaves nothing pending (a commit appended them, a rollback dropped them)."""
    pending = session.info.get(PENDING)
    if not pending:
        return
    if transaction.parent is None:
        session.info.pop(PENDING, None)
    elif transaction.nested:
        outer = transaction.parent if transaction.parent.nested else None
        session.info[PENDING] = [(outer if t is transaction else t, e) for t, e in pending]


def refs_of(object_id, detail):
    """The ids of the objects an event names (AuditEventRef): its object id, and every id in its
    detail, whether a value or in a list. An id is a UUID in its canonical 36-character form, as
    events write them (str(uuid))."""
    found = set()
    for value in [object_id, *(detail or {}).values()]:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and len(item) == 36:
                try:
                    found.add(uuid.UUID(item))
                except ValueError:
                    continue
    return found


def record_read(action, actor, target=None, **fields):
    """record() for a view that shows personal data: the event is the read's audit, and it declares
    the disclosure for the request (core.disclosure), so the view passes the undeclared-read check."""
    event = record(action, actor, target, **fields)
    declare()
    return event


def record_undeclared_read(endpoint, fields):
    """Audit personal data read by a view that declared nothing (core.disclosure's fallback):
    the endpoint and the field names, never values."""
    actor = current_user if current_user and current_user.is_authenticated else None
    return record("personal_data.read_undeclared", actor, object_type="endpoint", object_id=endpoint,
                  recipient_agency_id=getattr(actor, "agency_id", None), detail={"fields": fields})


def record_decryption_failure(error):
    """Audit a value that failed to decrypt (a core.crypto.DecryptionError): place, never content."""
    return record("crypto.decrypt_failed", object_type=error.table, object_id=str(error.row_id),
                  detail={"column": error.column, "reason": error.reason})


class ChainBroken(Exception):
    """The chain does not verify: `seq` is the first bad event, `reason` says why."""

    def __init__(self, seq, reason):
        self.seq, self.reason = seq, reason
        super().__init__(f"audit chain broken at event {seq}: {reason}")


def verify(head=None, batch_size=2000):
    """Recompute the chain; raise ChainBroken at the first bad event, else return (count, seq, hash).
    Each event's references (audit_event_refs, which the disclosure report reads) must be exactly the
    objects it names, so a reference added to draw an event into a report, or hidden, is found too.

    `head` is an externally kept (seq, hash): the chain must still reach it, which detects a
    truncated tail.
    """
    key = _audit_key()
    prev_seq, prev_hash, count = 0, GENESIS_HASH, 0
    while True:
        events = db.session.execute(
            select(AuditEvent).where(AuditEvent.seq > prev_seq).order_by(AuditEvent.seq).limit(batch_size)
        ).scalars().all()
        if not events:
            break
        named = {}
        for seq, ref in db.session.execute(select(AuditEventRef.seq, AuditEventRef.ref_id).where(
                AuditEventRef.seq >= events[0].seq, AuditEventRef.seq <= events[-1].seq)):
            named.setdefault(seq, set()).add(ref)
        for event in events:
            if event.seq != prev_seq + 1:
                raise ChainBroken(prev_seq + 1, f"missing; the next event present is {event.seq}")
            if event.prev_hash != prev_hash:
                raise ChainBroken(event.seq, "does not follow the event before it")
            if not hmac.compare_digest(event.hash, chain_hash(key, prev_hash, event)):
                raise ChainBroken(event.seq, "its content does not match its hash")
            if named.get(event.seq, set()) != refs_of(event.object_id, event.detail):
                raise ChainBroken(event.seq, "the objects indexed as named by it (audit_event_refs) are not those it names")
            if head and event.seq == head[0] and event.hash != head[1]:
                raise ChainBroken(event.seq, "differs from the recorded head")
            prev_seq, prev_hash, count = event.seq, event.hash, count + 1
            db.session.expunge(event)
    if head and prev_seq < head[0]:
        raise ChainBroken(prev_seq + 1, f"the chain ends at {prev_seq} but the recorded head is {head[0]}")
    stored = db.session.get(AuditChainHead, 1)
    if stored is not None and (stored.seq, stored.hash) != (prev_seq, prev_hash):
        raise ChainBroken(prev_seq + 1, "the chain head row does not match the last event")
    return count, prev_seq, prev_hash
