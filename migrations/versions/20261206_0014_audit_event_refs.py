"""Audit event references: the objects each event names, indexed, for the disclosure report.

An event names its target in object_id, and often other objects in its detail: the fifty cases a
case list showed (detail "cases"), the case an agenda change was about ("case_id"), the actions a
list showed. Finding every event about a case by reading each event's JSON detail would scan the
whole trail; audit_event_refs holds one row per (id named, event), its primary key starting with
the id, so the events about a case, its agenda items, actions and people are an index lookup on
SQLite and PostgreSQL alike.

Like audit_events, the table is append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), so a reference cannot be removed to hide an event from a report.

The upgrade fills the table from the events already recorded (in batches of 5,000, by the same rule
as audit.services.refs_of: the object id and every canonical UUID in the detail, alone or in a list).
Downgrade drops the table; nothing else depends on it.

Revision ID: 20261206_0014
Revises: 20261206_0020 (the revisions of 6 December were written side by side and chained in the order they landed)
Create Date: 2026-12-06
"""
import json
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_0014'
down_revision = '20261206_0020'
branch_labels = None
depends_on = None

BATCH = 5000

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_event_refs_no_update BEFORE UPDATE ON audit_event_refs
       BEGIN SELECT RAISE(ABORT, 'audit_event_refs is append-only'); END""",
    """CREATE TRIGGER audit_event_refs_no_delete BEFORE DELETE ON audit_event_refs
       BEGIN SELECT RAISE(ABORT, 'audit_event_refs is append-only'); END""",
]
POSTGRES_TRIGGERS = [
    """CREATE FUNCTION audit_event_refs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_event_refs is append-only'; END $$""",
    """CREATE TRIGGER audit_event_refs_no_update_delete BEFORE UPDATE OR DELETE ON audit_event_refs
       FOR EACH ROW EXECUTE FUNCTION audit_event_refs_append_only()""",
    """CREATE TRIGGER audit_event_refs_no_truncate BEFORE TRUNCATE ON audit_event_refs
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refs_append_only()""",
]

events = sa.table('audit_events', sa.column('seq', sa.BigInteger()), sa.column('object_id', sa.String()),
                  sa.column('detail', sa.JSON()))
refs = sa.table('audit_event_refs', sa.column('ref_id', sa.Uuid()), sa.column('seq', sa.BigInteger()))


def _refs_of(object_id, detail):
    """The ids an event names (audit.services.refs_of as of this revision)."""
    if isinstance(detail, str):
        detail = json.loads(detail)
    found = set()
    for value in [object_id, *(detail or {}).values()]:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and len(item) == 36:
                try:
                    found.add(uuid.UUID(item))
                except ValueError:
                    continue
    return found


def upgrade():
    op.create_table('audit_event_refs',
    sa.Column('ref_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['audit_events.seq'], name=op.f('fk_audit_event_refs_seq_audit_events')),
    sa.PrimaryKeyConstraint('ref_id', 'seq', name=op.f('pk_audit_event_refs'))
    )
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(events.c.seq, events.c.object_id, events.c.detail)
                            .where(events.c.seq > last).order_by(events.c.seq).limit(BATCH)).all()
        if not rows:
            break
        found = [{"ref_id": ref, "seq": row.seq} for row in rows for ref in sorted(_refs_of(row.object_id, row.detail))]
        if found:
            bind.execute(refs.insert(), found)
        last = rows[-1].seq
    for statement in SQLITE_TRIGGERS if bind.dialect.name == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_refs_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_refs_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_refs_no_update_delete ON audit_event_refs")
        op.execute("DROP TRIGGER IF EXISTS audit_event_refs_no_truncate ON audit_event_refs")
        op.execute("DROP FUNCTION IF EXISTS audit_event_refs_append_only()")
    op.drop_table('audit_event_refs')
