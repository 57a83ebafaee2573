"""Case closure and the data protection officer.

A case closes with an outcome (cases.closed_at, cases.closure_outcome; the manager's reason in words
is encrypted, cases.closure_reason); an entry of a case's history may carry the reason given for its
step (case_changes.note, encrypted: why a case was reopened). Cases closed before this revision get
their last change as their closing date, so that retention can count from it. An account may be the
data protection officer (users.is_dpo), given only with a second administrator's approval.

Revision ID: 20261206_0011
Revises: 20261126_0010
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_0011'
down_revision = '20261126_0010'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: a batch on SQLite would copy `cases` or `users`, which other tables refer to.
    op.add_column('cases', sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('cases', sa.Column('closure_outcome', sa.String(length=32), nullable=True))
    op.add_column('cases', sa.Column('closure_reason', sa.LargeBinary(), nullable=True))
    op.create_index('ix_cases_closed_at', 'cases', ['closed_at'], unique=False)
    op.execute("UPDATE cases SET closed_at = COALESCE((SELECT MAX(at) FROM case_changes WHERE case_id = cases.id), "
               "screened_at, submitted_at, created_at) WHERE status = 'closed'")
    op.add_column('case_changes', sa.Column('note', sa.LargeBinary(), nullable=True))
    op.add_column('users', sa.Column('is_dpo', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    # Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy of `cases` or `users`
    # fails once other tables refer to them.
    op.drop_column('users', 'is_dpo')
    op.drop_column('case_changes', 'note')
    op.drop_index('ix_cases_closed_at', table_name='cases')
    op.drop_column('cases', 'closure_reason')
    op.drop_column('cases', 'closure_outcome')
    op.drop_column('cases', 'closed_at')
