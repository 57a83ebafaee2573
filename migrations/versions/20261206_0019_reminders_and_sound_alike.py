"""Reminders by email and "sounds like" search.

Email: the kinds of optional email each account has turned off (email_opt_outs), and the scheduled
reminders already sent (sent_reminders: what, about which meeting or agency, for which period, to
whom), so that `flask reminders send` never sends one twice. Neither holds any personal data.

Search: five blind indexes on person_names (core.blind_index): the Double Metaphone codes of the
name's first and last words with the year of birth (in their four pairs of primary and alternate
codes), and the first letters of those words with the year. Existing names are indexed here: each name and date of
birth is decrypted with the live data keys (unwrapped by the application's key ring, read through this
migration's own connection: on SQLite a second connection would wait for the write lock this migration
holds), and the indexes' keys are read the same way. When a name needs indexing and an index has no
key yet, its key is made here, wrapped by the KEK like any other (`flask keys reindex` replaces it
whenever wanted); with no names to index none is made, and the application makes it on first use.

Revision ID: 20261206_0019
Revises: 20261206_0015 (the revisions of 6 December were written side by side and chained in the order they landed)
Create Date: 2026-12-06
"""
import os
import uuid

from alembic import op
import sqlalchemy as sa
from flask import current_app

from marac.core.blind_index import message, prefix_parts, sound_parts, tag
from marac.core.crypto import KeyUnavailable, decrypt_value
from marac.core.timeutil import utcnow
from marac.keys.models import DATA_PURPOSE


# revision identifiers, used by Alembic.
revision = '20261206_0019'
down_revision = '20261206_0015'
branch_labels = None
depends_on = None

# (column, index name, code pair): the four pairs of the first and last words' Double Metaphone codes
# (0 primary, 1 alternate), and the first letters.
INDEX_COLUMNS = [('sound_year_index', 'person_sound_year', (0, 0)),
                 ('sound_alt_year_index', 'person_sound_year', (1, 1)),
                 ('sound_pa_year_index', 'person_sound_year', (0, 1)),
                 ('sound_ap_year_index', 'person_sound_year', (1, 0)),
                 ('prefix_year_index', 'person_prefix_year', None)]
KEYS = sa.table('data_keys', sa.column('id', sa.Uuid()), sa.column('purpose', sa.String()),
                sa.column('wrapped_key', sa.LargeBinary()), sa.column('kek_id', sa.String()),
                sa.column('is_primary', sa.Boolean()), sa.column('created_at', sa.DateTime(timezone=True)),
                sa.column('retired_at', sa.DateTime(timezone=True)))
NAMES = sa.table('person_names', sa.column('id', sa.Uuid()), sa.column('person_id', sa.Uuid()),
                 sa.column('full_name', sa.LargeBinary()),
                 *(sa.column(column, sa.String()) for column, _, _ in INDEX_COLUMNS))
PEOPLE = sa.table('people', sa.column('id', sa.Uuid()), sa.column('date_of_birth', sa.LargeBinary()))


class MigrationKeys:
    """The live data keys, unwrapped by the app's key ring, read through the migration's connection:
    what core.crypto's unseal asks of a key ring (key(id))."""

    def __init__(self, connection):
        ring = current_app.extensions['marac_keyring']
        self.keys = {row.id: ring.unwrap_stored(row) for row in connection.execute(
            sa.select(KEYS).where(KEYS.c.purpose == DATA_PURPOSE, KEYS.c.retired_at.is_(None)))}

    def primary(self):
        raise KeyUnavailable("this migration only decrypts")

    def key(self, key_id):
        """The raw data key with this id, or None."""
        return self.keys.get(key_id)


def _index_key(connection, name):
    """The raw primary key of blind index `name`, made (wrapped by the KEK) if it has none."""
    ring = current_app.extensions['marac_keyring']
    purpose = f'index:{name}'
    row = connection.execute(sa.select(KEYS).where(KEYS.c.purpose == purpose, KEYS.c.is_primary.is_(True),
                                                   KEYS.c.retired_at.is_(None))).first()
    if row is not None:
        return ring.unwrap_stored(row)
    raw = os.urandom(32)
    connection.execute(KEYS.insert().values(id=uuid.uuid4(), purpose=purpose, wrapped_key=ring.wrap(raw),
                                            kek_id=ring.kek_id, is_primary=True, created_at=utcnow()))
    return raw


def upgrade():
    op.create_table('email_opt_outs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_opt_outs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_opt_outs')),
    sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_email_opt_outs_user_id_kind'))
    )
    op.create_index(op.f('ix_email_opt_outs_user_id'), 'email_opt_outs', ['user_id'], unique=False)
    op.create_table('sent_reminders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('about_id', sa.Uuid(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sent_reminders_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_reminders')),
    sa.UniqueConstraint('kind', 'about_id', 'period', 'user_id',
                        name=op.f('uq_sent_reminders_kind_about_id_period_user_id'))
    )
    op.create_index(op.f('ix_sent_reminders_user_id'), 'sent_reminders', ['user_id'], unique=False)

    # Plain ADD COLUMN: a batch on SQLite would copy person_names.
    for column, _, _ in INDEX_COLUMNS:
        op.add_column('person_names', sa.Column(column, sa.String(length=16), nullable=True))
        op.create_index(op.f(f'ix_person_names_{column}'), 'person_names', [column], unique=False)
    connection = op.get_bind()
    names = connection.execute(sa.select(NAMES.c.id, NAMES.c.person_id, NAMES.c.full_name)
                               .where(NAMES.c.full_name.is_not(None))).all()
    if not names:
        return
    ring = MigrationKeys(connection)
    index_keys = {name: _index_key(connection, name) for name in sorted({n for _, n, _ in INDEX_COLUMNS})}
    births = {}
    for person_id, blob in connection.execute(sa.select(PEOPLE.c.id, PEOPLE.c.date_of_birth)
                                              .where(PEOPLE.c.date_of_birth.is_not(None))):
        births[person_id] = decrypt_value(bytes(blob), 'people', 'date_of_birth', person_id, ring=ring).year
    for name_id, person_id, blob in names:
        full_name = decrypt_value(bytes(blob), 'person_names', 'full_name', name_id, ring=ring)
        year = births.get(person_id)
        values = {}
        for column, index_name, pair in INDEX_COLUMNS:
            data = message(*(sound_parts(full_name, year, *pair) if pair else prefix_parts(full_name, year)))
            values[column] = tag(index_keys[index_name], data) if data is not None else None
        connection.execute(NAMES.update().where(NAMES.c.id == name_id).values(values))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+ drops a column in place), each index first.
    for column, _, _ in reversed(INDEX_COLUMNS):
        op.drop_index(op.f(f'ix_person_names_{column}'), table_name='person_names')
        op.drop_column('person_names', column)
    op.drop_index(op.f('ix_sent_reminders_user_id'), table_name='sent_reminders')
    op.drop_table('sent_reminders')
    op.drop_index(op.f('ix_email_opt_outs_user_id'), table_name='email_opt_outs')
    op.drop_table('email_opt_outs')
