"""A case's status by its id, from an index alone (cases.models: ix_cases_status_by_id): a count over
another table that keeps only the rows of cases the panel sees (the manager's home page counts the
overdue actions of each agency, thousands at 100,000 cases) reads the index, not each case's wide row.
The planners' statistics are refreshed for the new index where there is data.

Revision ID: 20261206_0022
Revises: 20261206_0021
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_0022'
down_revision = '20261206_0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_cases_status_by_id', 'cases', ['id', 'status'], unique=False)
    if op.get_bind().execute(sa.text('SELECT 1 FROM cases LIMIT 1')).first() is not None:
        op.execute('ANALYZE cases')


def downgrade():
    op.drop_index('ix_cases_status_by_id', table_name='cases')
