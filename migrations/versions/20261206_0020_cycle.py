"""The cycle as coordinators live it: when a research return was shared, and the agenda deadline that
applied when an agenda went out.

research_returns.shared_at says "shared with the panel on ..." (returns shared before this revision get
their last update as the date, the best the database knows). meetings.agenda_due_on keeps the deadline
a published agenda was measured against, so that a later change of the panel's lead time does not
rewrite the timeliness figures; agendas published before this revision record none, and the figures
measure them against the panel's lead time, as they did until now.

Revision ID: 20261206_0020
Revises: 20261206_0011
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_0020'
down_revision = '20261206_0011'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: a batch on SQLite would copy tables that others refer to.
    op.add_column('research_returns', sa.Column('shared_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE research_returns SET shared_at = updated_at WHERE is_shared")
    op.add_column('meetings', sa.Column('agenda_due_on', sa.Date(), nullable=True))


def downgrade():
    op.drop_column('meetings', 'agenda_due_on')
    op.drop_column('research_returns', 'shared_at')
