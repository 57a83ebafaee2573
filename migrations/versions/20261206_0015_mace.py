"""MACE in depth: risk reviews, the registers' links, the review interval, and MACE's own risk scale.

A MACE case's review (mace_reviews) keeps the risk level now plain beside the risk at referral
(cases.risk_level), what changed and the disruption plan encrypted, and its tactics coded. A link or
unlink of a case in the registers of persons and locations of concern (mace_concern_links) keeps its
reason and its matching key encrypted, with the blind indexes that find the entry. Each MACE panel sets
the weeks between reviews (panels.review_interval_weeks, 12 by default). MACE grades risk low / medium /
high: its cases assessed "standard" before this revision become "low" (and back on downgrade).

Revision ID: 20261206_0015
Revises: 20261206_0013 (the revisions of 6 December were written side by side and chained in the order they landed)
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_0015'
down_revision = '20261206_0013'
branch_labels = None
depends_on = None

MACE_CASES = "panel_id IN (SELECT id FROM panels WHERE kind = 'MACE')"


def upgrade():
    # Plain ADD COLUMN: a batch on SQLite would copy `panels`, which other tables refer to.
    op.add_column('panels', sa.Column('review_interval_weeks', sa.Integer(), nullable=False, server_default='12'))
    op.execute(f"UPDATE cases SET risk_level = 'low' WHERE risk_level = 'standard' AND {MACE_CASES}")
    op.create_table('mace_reviews',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Uuid(), nullable=False),
    sa.Column('risk_level', sa.String(length=16), nullable=False),
    sa.Column('tactics', sa.JSON(), nullable=False),
    sa.Column('stays_in_scope', sa.Boolean(), nullable=False),
    sa.Column('what_changed', sa.LargeBinary(), nullable=True),
    sa.Column('disruption_plan', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_mace_reviews_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_mace_reviews_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mace_reviews'))
    )
    with op.batch_alter_table('mace_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mace_reviews_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mace_reviews_reviewed_on'), ['reviewed_on'], unique=False)

    op.create_table('mace_concern_links',
    sa.Column('panel_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.LargeBinary(), nullable=True),
    sa.Column('name', sa.LargeBinary(), nullable=True),
    sa.Column('date_of_birth', sa.LargeBinary(), nullable=True),
    sa.Column('address', sa.LargeBinary(), nullable=True),
    sa.Column('postcode', sa.LargeBinary(), nullable=True),
    sa.Column('name_dob_index', sa.String(length=16), nullable=True),
    sa.Column('address_index', sa.String(length=16), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_mace_concern_links_case_id_cases'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], name=op.f('fk_mace_concern_links_panel_id_panels')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mace_concern_links_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mace_concern_links'))
    )
    with op.batch_alter_table('mace_concern_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mace_concern_links_panel_id'), ['panel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mace_concern_links_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mace_concern_links_name_dob_index'), ['name_dob_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_mace_concern_links_address_index'), ['address_index'], unique=False)


def downgrade():
    with op.batch_alter_table('mace_concern_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mace_concern_links_address_index'))
        batch_op.drop_index(batch_op.f('ix_mace_concern_links_name_dob_index'))
        batch_op.drop_index(batch_op.f('ix_mace_concern_links_case_id'))
        batch_op.drop_index(batch_op.f('ix_mace_concern_links_panel_id'))
    op.drop_table('mace_concern_links')
    with op.batch_alter_table('mace_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mace_reviews_reviewed_on'))
        batch_op.drop_index(batch_op.f('ix_mace_reviews_case_id'))
    op.drop_table('mace_reviews')
    op.execute(f"UPDATE cases SET risk_level = 'standard' WHERE risk_level = 'low' AND {MACE_CASES}")
    # Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy of `panels` fails once
    # other tables refer to it.
    op.drop_column('panels', 'review_interval_weeks')
