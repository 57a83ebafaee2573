"""Names at meetings encrypted: an attendee's name and role in the register (attendees.name, .role)
and an action's named person (actions.named_person) become AES-GCM ciphertext bound to their table,
column and row, like every other personal field. Existing rows are converted both ways: upgrade
seals each plain value and drops the plain column; downgrade opens them again.

The data keys are read through this migration's own connection and unwrapped by the application's
key ring (the KEK check included): on SQLite a second connection, the session's, would wait for the
write lock this migration holds.

Revision ID: 20261126_0006_encrypt_names
Revises: 20261126_0004
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from marac.core.crypto import KeyUnavailable, decrypt_value, encrypt_value
from marac.keys.models import DATA_PURPOSE


# revision identifiers, used by Alembic.
revision = '20261126_0006_encrypt_names'
# Temporarily after 0004 (this branch's head before it): on main it follows the approvals revision
# (revision id '20261126_0005') or main's head, as the lead re-chains.
down_revision = '20261126_0004'
branch_labels = None
depends_on = None

# (table, column, type of the plain column)
COLUMNS = [('attendees', 'name', sa.String(length=120)),
           ('attendees', 'role', sa.String(length=120)),
           ('actions', 'named_person', sa.String(length=120))]


class MigrationKeys:
    """The live data keys, unwrapped by the app's key ring, read through the migration's connection:
    what core.crypto's seal and unseal ask of a key ring (primary() and key(id))."""

    def __init__(self, connection):
        keys = sa.table('data_keys', sa.column('id', sa.Uuid()), sa.column('purpose', sa.String()),
                        sa.column('wrapped_key', sa.LargeBinary()), sa.column('kek_id', sa.String()),
                        sa.column('is_primary', sa.Boolean()), sa.column('retired_at', sa.DateTime()))
        ring = current_app.extensions['marac_keyring']
        self.keys, self.primary_id = {}, None
        for row in connection.execute(sa.select(keys).where(keys.c.purpose == DATA_PURPOSE,
                                                            keys.c.retired_at.is_(None))):
            self.keys[row.id] = ring.unwrap_stored(row)
            if row.is_primary:
                self.primary_id = row.id

    def primary(self):
        """(id, raw key) of the primary data key."""
        if self.primary_id is None:
            raise KeyUnavailable("no primary data key to encrypt existing names with: run `flask keys init`")
        return self.primary_id, self.keys[self.primary_id]

    def key(self, key_id):
        """The raw data key with this id, or None."""
        return self.keys.get(key_id)


def _rows(connection, table, column, kind):
    """(id, value) of every row of the table with a value in the column."""
    source = sa.table(table, sa.column('id', sa.Uuid()), sa.column(column, kind))
    return connection.execute(sa.select(source.c.id, source.c[column])
                              .where(source.c[column].is_not(None))).all()


def _write(connection, table, column, kind, values):
    """Set the column of each row id to its value."""
    target = sa.table(table, sa.column('id', sa.Uuid()), sa.column(column, kind))
    for row_id, value in values:
        connection.execute(target.update().where(target.c.id == row_id).values({column: value}))


def _convert(table, column, from_kind, to_column, to_kind, change):
    """Fill to_column with change(row id, value) of each row's value in column."""
    connection = op.get_bind()
    rows = _rows(connection, table, column, from_kind)
    _write(connection, table, to_column, to_kind, [(row_id, change(row_id, value)) for row_id, value in rows])


def upgrade():
    keys = None

    def seal(table, column):
        def change(row_id, value):
            nonlocal keys
            keys = keys or MigrationKeys(op.get_bind())
            return encrypt_value(value, str, table, column, row_id, ring=keys) if value != '' else None
        return change

    for table, column, plain in COLUMNS:
        op.add_column(table, sa.Column(f'{column}_sealed', sa.LargeBinary(), nullable=True))
        _convert(table, column, plain, f'{column}_sealed', sa.LargeBinary(), seal(table, column))
    # SQLite rebuilds attendees here (nothing refers to it); names stay required.
    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.drop_column('name')
        batch_op.drop_column('role')
        batch_op.alter_column('name_sealed', new_column_name='name', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column('role_sealed', new_column_name='role', existing_type=sa.LargeBinary(), nullable=True)
    # actions is altered in place, never rebuilt: on SQLite, dropping the old table would delete every
    # action_updates row with it (ON DELETE CASCADE).
    op.drop_column('actions', 'named_person')
    op.alter_column('actions', 'named_person_sealed', new_column_name='named_person',
                    existing_type=sa.LargeBinary(), existing_nullable=True)


def downgrade():
    keys = None

    def unseal(table, column):
        def change(row_id, blob):
            nonlocal keys
            keys = keys or MigrationKeys(op.get_bind())
            return decrypt_value(blob, table, column, row_id, ring=keys)
        return change

    for table, column, plain in COLUMNS:
        op.add_column(table, sa.Column(f'{column}_plain', plain, nullable=True))
        _convert(table, column, sa.LargeBinary(), f'{column}_plain', plain, unseal(table, column))
    op.execute(sa.text("UPDATE attendees SET role_plain = '' WHERE role_plain IS NULL"))
    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.drop_column('name')
        batch_op.drop_column('role')
        batch_op.alter_column('name_plain', new_column_name='name', existing_type=sa.String(length=120),
                              nullable=False)
        batch_op.alter_column('role_plain', new_column_name='role', existing_type=sa.String(length=120),
                              nullable=False)
    op.drop_column('actions', 'named_person')
    op.alter_column('actions', 'named_person_plain', new_column_name='named_person',
                    existing_type=sa.String(length=120), existing_nullable=True)
