"""A form accepted once: the one-time form tokens that have been used, and where their submission
led (core.forms.SpentFormToken).

Revision ID: 20261126_0009_spent_form_tokens
Revises: 20261126_0006_encrypt_names
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261126_0009_spent_form_tokens'
# Numbered after main's 0008; on this branch it follows 0006, its only predecessor here.
down_revision = '20261126_0006_encrypt_names'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('spent_form_tokens',
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('spent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result_url', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_spent_form_tokens'))
    )
    with op.batch_alter_table('spent_form_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spent_form_tokens_spent_at'), ['spent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('spent_form_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spent_form_tokens_spent_at'))

    op.drop_table('spent_form_tokens')
