"""Approvals: an administrator's request for an act that a second administrator must approve (giving
oneself a panel role; giving administrator access; resetting an administrator's or a panel manager's
password or authenticator).

Revision ID: 20261126_0005
Revises: 20261126_0004
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261126_0005'
down_revision = '20261126_0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('approval_requests',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', sa.Uuid(), nullable=False),
    sa.Column('target_user_id', sa.Uuid(), nullable=False),
    sa.Column('panel_id', sa.Uuid(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_approval_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], name=op.f('fk_approval_requests_panel_id_panels')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_approval_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['target_user_id'], ['users.id'], name=op.f('fk_approval_requests_target_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests'))
    )
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_requests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_requests_target_user_id'), ['target_user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_requests_target_user_id'))
        batch_op.drop_index(batch_op.f('ix_approval_requests_status'))

    op.drop_table('approval_requests')
