"""record() appends one event to the chain in the caller's transaction; verify() checks the chain.

Each event's hash is an HMAC (key outside the database) over the previous hash and the event's
canonical form, so an edited, deleted, inserted or reordered event breaks the chain from there on.
Appends lock the single chain-head row (SELECT ... FOR UPDATE on PostgreSQL; SQLite transactions
are BEGIN IMMEDIATE, so the writer already holds the database lock).
"""
import hashlib
import hmac
import json
import uuid

from flask import current_app, g, has_request_context
from flask_login import current_user
from sqlalchemy import insert, select

from marac.audit.models import AuditChainHead, AuditEvent, AuditEventRef
from marac.core.disclosure import declare
from marac.core.timeutil import utcnow
from marac.extensions import db

GENESIS_HASH = "0" * 64
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
    """Append an event in the current transaction. `target` is any model with an id.

    `detail` holds field names, counts and codes; never personal data.
    """
    if target is not None:
        object_type = object_type or target.__tablename__
        object_id = object_id or str(target.id)
    head = db.session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    event = AuditEvent(
        seq=head.seq + 1,
        occurred_at=utcnow(),
        actor_user_id=getattr(actor, "id", None),
        actor_agency_id=getattr(actor, "agency_id", None),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        recipient_agency_id=recipient_agency_id,
        purpose=purpose,
        client_addr=g.get("client_addr") if has_request_context() else None,
        detail=_check_detail(dict(detail or {})),
        prev_hash=head.hash,
    )
    event.hash = chain_hash(_audit_key(), head.hash, event)
    head.seq, head.hash = event.seq, event.hash
    db.session.add(event)
    db.session.flush()
    refs = refs_of(event.object_id, event.detail)
    if refs:
        db.session.execute(insert(AuditEventRef), [{"ref_id": ref, "seq": event.seq} for ref in sorted(refs)])
    return event


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
