"""MARAC-to-MARAC transfers: case_transfers (the other area, its coordinator and reference encrypted; the
transfer packet's PDF encrypted, with its SHA-256), and cases.is_transfer_in (a case received from another
area, listed first on the next agenda).

Plain ALTER TABLE for cases (SQLite 3.35+ drops a column in place): a batch copy of `cases` would drop
the table, which with foreign keys on deletes the rows that cascade from it.

Revision ID: 20261206_0017
Revises: 20261206_0019 (the revisions of 6 December were written side by side and chained in the order they landed)
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_0017'
down_revision = '20261206_0019'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('is_transfer_in', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('case_transfers',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('transferred_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Uuid(), nullable=True),
    sa.Column('packet_status', sa.String(length=16), nullable=True),
    sa.Column('packet_sha256', sa.String(length=64), nullable=True),
    sa.Column('packet_pages', sa.Integer(), nullable=True),
    sa.Column('packet_built_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('packet_error', sa.String(length=64), nullable=True),
    sa.Column('area', sa.LargeBinary(), nullable=True),
    sa.Column('contact', sa.LargeBinary(), nullable=True),
    sa.Column('their_reference', sa.LargeBinary(), nullable=True),
    sa.Column('packet', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_transfers_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_case_transfers_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_transfers')),
    sa.UniqueConstraint('case_id', 'direction', name=op.f('uq_case_transfers_case_id_direction'))
    )
    with op.batch_alter_table('case_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_transfers_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_transfers_packet_sha256'), ['packet_sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('case_transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_transfers_packet_sha256'))
        batch_op.drop_index(batch_op.f('ix_case_transfers_case_id'))
    op.drop_table('case_transfers')
    op.drop_column('cases', 'is_transfer_in')
