"""Subject access and rectification: the request log (subject_requests), the cases confirmed as the
subject's (subject_cases), the responses built (subject_responses: the PDF and JSON encrypted, their
SHA-256) and the corrections made (subject_rectifications: the reason encrypted; the old values are
kept in each case's history, case_changes).

Revision ID: 20261206_0013
Revises: 20261206_0012 (the revisions of 6 December were written side by side and chained in the order they landed)
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_0013'
down_revision = '20261206_0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('subject_requests',
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('requester', sa.String(length=16), nullable=False),
    sa.Column('identity_checked', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('extension_months', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('subject_name', sa.LargeBinary(), nullable=True),
    sa.Column('subject_date_of_birth', sa.LargeBinary(), nullable=True),
    sa.Column('notes', sa.LargeBinary(), nullable=True),
    sa.Column('status_reason', sa.LargeBinary(), nullable=True),
    sa.Column('extension_reason', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_subject_requests_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_requests')),
    sa.UniqueConstraint('reference', name=op.f('uq_subject_requests_reference'))
    )
    with op.batch_alter_table('subject_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_requests_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_requests_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_requests_received_on'), ['received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_requests_status'), ['status'], unique=False)

    op.create_table('subject_cases',
    sa.Column('request_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('confirmed_by_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_subject_cases_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_subject_cases_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['subject_requests.id'], name=op.f('fk_subject_cases_request_id_subject_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_cases')),
    sa.UniqueConstraint('request_id', 'case_id', name=op.f('uq_subject_cases_request_id_case_id'))
    )
    with op.batch_alter_table('subject_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_cases_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_cases_request_id'), ['request_id'], unique=False)

    op.create_table('subject_responses',
    sa.Column('request_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('case_ids', sa.JSON(), nullable=False),
    sa.Column('requested_by_id', sa.Uuid(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('json_sha256', sa.String(length=64), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('redactions', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=64), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('json_document', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['subject_requests.id'], name=op.f('fk_subject_responses_request_id_subject_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_subject_responses_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_responses'))
    )
    with op.batch_alter_table('subject_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_responses_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_responses_sha256'), ['sha256'], unique=False)

    op.create_table('subject_rectifications',
    sa.Column('request_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('reason', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['subject_requests.id'], name=op.f('fk_subject_rectifications_request_id_subject_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_subject_rectifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_rectifications'))
    )
    with op.batch_alter_table('subject_rectifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_rectifications_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('subject_rectifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_rectifications_request_id'))
    op.drop_table('subject_rectifications')
    with op.batch_alter_table('subject_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_responses_sha256'))
        batch_op.drop_index(batch_op.f('ix_subject_responses_request_id'))
    op.drop_table('subject_responses')
    with op.batch_alter_table('subject_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_cases_request_id'))
        batch_op.drop_index(batch_op.f('ix_subject_cases_case_id'))
    op.drop_table('subject_cases')
    with op.batch_alter_table('subject_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_requests_status'))
        batch_op.drop_index(batch_op.f('ix_subject_requests_received_on'))
        batch_op.drop_index(batch_op.f('ix_subject_requests_due_on'))
        batch_op.drop_index(batch_op.f('ix_subject_requests_created_by_id'))
    op.drop_table('subject_requests')
