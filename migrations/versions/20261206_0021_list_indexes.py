"""Lists at scale: the references' year and number as numbers (cases.reference_year, reference_number,
filled from the references already given); each action's panel (actions.panel_id, filled from its case);
the indexes that serve each order of the case list, carrying the filters' columns, and the actions
lists (keyset pagination reads only the page's rows); and fresh planner statistics where there is data
(ANALYZE; SQLite's planner has none until it is run).

Plain ALTER TABLE for cases, as in 20261206_0017: a batch copy would drop the table.

Revision ID: 20261206_0021
Revises: 20261206_0017
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_0021'
down_revision = '20261206_0017'
branch_labels = None
depends_on = None

_TAIL = ['referred_on', 'reference_year', 'reference_number', 'id']
# The filters' columns ride along (cases.models.LIST_FILTERED): a filter is decided from the index.
_FILTERED = ['status', 'referring_agency_id', 'risk_level', 'is_repeat']
CASE_INDEXES = {
    'ix_cases_list_referred': ['panel_id'] + _TAIL + _FILTERED,
    'ix_cases_list_reference': ['panel_id', 'reference_year', 'reference_number', 'id'] + _FILTERED,
    'ix_cases_list_risk': ['panel_id', sa.text('coalesce(risk_score, -1)')] + _TAIL + _FILTERED,
}
OPEN_FIRST = sa.text("(CASE WHEN status = 'open' THEN 0 ELSE 1 END)")
ACTION_INDEXES = {
    'ix_actions_list': ['panel_id', OPEN_FIRST, 'due_on', 'id'],
    'ix_actions_list_owner': ['owner_agency_id', OPEN_FIRST, 'due_on', 'id'],
}


def _split_references():
    """Every reference's year and number (MARAC-2026-0042: 2026, 42), in batches by id."""
    conn = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Uuid()), sa.column('reference', sa.String()),
                     sa.column('reference_year', sa.Integer()), sa.column('reference_number', sa.Integer()))
    rows = conn.execute(sa.select(cases.c.id, cases.c.reference).where(cases.c.reference.is_not(None))).all()
    updates = []
    for case_id, reference in rows:
        parts = reference.rsplit('-', 2)
        if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts[1:]):
            updates.append({'case_id': case_id, 'year': int(parts[1]), 'number': int(parts[2])})
    if updates:
        conn.execute(cases.update().where(cases.c.id == sa.bindparam('case_id'))
                     .values(reference_year=sa.bindparam('year'), reference_number=sa.bindparam('number')), updates)


def upgrade():
    op.add_column('cases', sa.Column('reference_year', sa.Integer(), nullable=True))
    op.add_column('cases', sa.Column('reference_number', sa.Integer(), nullable=True))
    _split_references()
    for name, columns in CASE_INDEXES.items():
        op.create_index(name, 'cases', columns, unique=False)
    op.add_column('actions', sa.Column('panel_id', sa.Uuid(), nullable=True))
    op.execute('UPDATE actions SET panel_id = (SELECT cases.panel_id FROM cases WHERE cases.id = actions.case_id)')
    for name, columns in ACTION_INDEXES.items():
        op.create_index(name, 'actions', columns, unique=False)
    # Statistics for the planners over the data already there (SQLite has none until ANALYZE runs). Not
    # on an empty database: PostgreSQL would record the tables as empty, and plan the first large
    # transaction (a seed, a test's world) as if they still were, until autovacuum next looks.
    if op.get_bind().execute(sa.text('SELECT 1 FROM cases LIMIT 1')).first() is not None:
        op.execute('ANALYZE')


def downgrade():
    for name in ACTION_INDEXES:
        op.drop_index(name, table_name='actions')
    op.drop_column('actions', 'panel_id')
    for name in CASE_INDEXES:
        op.drop_index(name, table_name='cases')
    op.drop_column('cases', 'reference_number')
    op.drop_column('cases', 'reference_year')
