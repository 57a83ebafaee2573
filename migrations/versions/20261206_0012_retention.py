"""Retention: each panel's schedule, legal holds, and the tombstone of a deleted case.

retention_schedules holds a panel's schedule once its administrator sets one (else the defaults of its
kind apply); legal_holds the holds placed on cases (both reasons encrypted); cases.deleted_at says when
a case became a tombstone (status "deleted").

Revision ID: 20261206_0012
Revises: 20261206_0016 (the revisions of 6 December were written side by side and chained in the order they landed)
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_0012'
down_revision = '20261206_0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('retention_schedules',
    sa.Column('panel_id', sa.Uuid(), nullable=False),
    sa.Column('years', sa.Integer(), nullable=False),
    sa.Column('age_limit', sa.Integer(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], name=op.f('fk_retention_schedules_panel_id_panels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_schedules')),
    sa.UniqueConstraint('panel_id', name=op.f('uq_retention_schedules_panel_id'))
    )
    op.create_table('legal_holds',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('placed_by_id', sa.Uuid(), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.LargeBinary(), nullable=True),
    sa.Column('lifted_by_id', sa.Uuid(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lift_reason', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_legal_holds_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['placed_by_id'], ['users.id'], name=op.f('fk_legal_holds_placed_by_id_users')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_legal_holds_lifted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds'))
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_holds_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_holds_lifted_at'), ['lifted_at'], unique=False)
    # Plain ADD COLUMN: a batch on SQLite would copy `cases`, which other tables refer to.
    op.add_column('cases', sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # Plain ALTER TABLE (SQLite 3.35+ drops a column in place).
    op.drop_column('cases', 'deleted_at')
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_holds_lifted_at'))
        batch_op.drop_index(batch_op.f('ix_legal_holds_case_id'))
    op.drop_table('legal_holds')
    op.drop_table('retention_schedules')
