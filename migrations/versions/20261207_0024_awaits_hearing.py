"""Whether an accepted case waits to be heard (cases.awaits_hearing), with the index the agenda builder's
waiting list reads (ix_cases_waiting: panel, status, awaits_hearing). The list was worked out from every
accepted case of the panel against every hearing (74 ms at 100,000 cases, of which 16,638 accepted and
heard); it now reads the few that wait.

Existing cases wait if they are accepted and no meeting has heard them since they were last reopened
(or at all): the old list left a case reopened after its hearing out for good, though its reopening
says it waits for a meeting again. From here on a case waits again whenever it becomes accepted.

Plain ALTER TABLE for cases, as in 20261206_0017: a batch copy would drop the table.

Revision ID: 20261207_0024
Revises: 20261207_0023
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261207_0024'
down_revision = '20261207_0023'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('awaits_hearing', sa.Boolean(), server_default=sa.false(), nullable=False))
    # Accepted, and no hearing since it was last reopened (or at all, if it never was). A hearing with no
    # time recorded counts as before a reopening: a reopened case is shown waiting rather than missed.
    op.execute(sa.text(
        "UPDATE cases SET awaits_hearing = :yes WHERE status = 'accepted' AND NOT EXISTS ("
        " SELECT 1 FROM agenda_items WHERE agenda_items.case_id = cases.id AND agenda_items.status = 'heard'"
        " AND (NOT EXISTS (SELECT 1 FROM case_changes WHERE case_changes.case_id = cases.id"
        "                  AND case_changes.action = 'reopened')"
        "      OR agenda_items.heard_at > (SELECT max(case_changes.at) FROM case_changes"
        "                                  WHERE case_changes.case_id = cases.id"
        "                                  AND case_changes.action = 'reopened')))"
    ).bindparams(yes=True))
    op.create_index('ix_cases_waiting', 'cases', ['panel_id', 'status', 'awaits_hearing'], unique=False)
    if op.get_bind().execute(sa.text('SELECT 1 FROM cases LIMIT 1')).first() is not None:
        op.execute('ANALYZE cases')


def downgrade():
    op.drop_index('ix_cases_waiting', table_name='cases')
    op.drop_column('cases', 'awaits_hearing')
