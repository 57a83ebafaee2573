"""The referral as its referrer sent it: cases.sent_referral (encrypted, like cases.referral), what a
referrer without a role on the panel sees of the case. Submitted cases get their current answers: the
best record there is of what was sent.

Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy of `cases` would drop the table,
which with foreign keys on deletes the rows that cascade from it.

Revision ID: 20261126_0008
Revises: 20261126_0007
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

from marac.core.crypto import decrypt_value, encrypt_value


# revision identifiers, used by Alembic.
revision = '20261126_0008'
down_revision = '20261126_0007'
branch_labels = None
depends_on = None

CASES = sa.table('cases', sa.column('id', sa.Uuid()), sa.column('status', sa.String()),
                 sa.column('referral', sa.LargeBinary()), sa.column('sent_referral', sa.LargeBinary()))


def upgrade():
    op.add_column('cases', sa.Column('sent_referral', sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    sent = conn.execute(sa.select(CASES.c.id, CASES.c.referral).where(
        CASES.c.status != 'draft', CASES.c.referral.is_not(None))).all()
    for case_id, blob in sent:
        # Each value is bound to its column and row: decrypt from referral, seal for sent_referral.
        answers = decrypt_value(bytes(blob), 'cases', 'referral', case_id)
        conn.execute(CASES.update().where(CASES.c.id == case_id).values(
            sent_referral=encrypt_value(answers, dict, 'cases', 'sent_referral', case_id)))


def downgrade():
    op.drop_column('cases', 'sent_referral')
