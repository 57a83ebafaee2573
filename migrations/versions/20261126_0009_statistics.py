"""Statistics for the steering group: each panel's local population of women aged 16 and over, the
attendance threshold below which an agency is flagged, and the local population shares of the
diversity groups. Coded settings only: the figures themselves are computed from existing plain columns.

Revision ID: 20261126_0009
Revises: 20261126_0008
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261126_0009'
down_revision = '20261126_0008'
branch_labels = None
depends_on = None

SHARES = ('local_minoritised_share', 'local_lgbt_share', 'local_disabled_share', 'local_male_share',
          'local_aged_16_17_share')


def upgrade():
    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('women_16_plus', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attendance_threshold', sa.Integer(), nullable=False, server_default='80'))
        for name in SHARES:
            batch_op.add_column(sa.Column(name, sa.Numeric(precision=4, scale=1, asdecimal=False), nullable=True))


def downgrade():
    # Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy would drop `panels`, which
    # every case, meeting and role refers to, and fails on a database that holds any.
    for name in reversed(SHARES):
        op.drop_column('panels', name)
    op.drop_column('panels', 'attendance_threshold')
    op.drop_column('panels', 'women_16_plus')
