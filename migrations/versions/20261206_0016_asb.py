"""The ASB taskforce's own work: the interventions ladder, and ASB Case Reviews (the Community Trigger)
with their recommendations and each panel's settings; and the response-time date of ASB cases.

No column is added to `cases`: the response-time date is a coded value (Case.codes["response_due_on"],
an ISO date) beside the response time it comes from. It is filled in here for the ASB cases already
held, from the response time their vulnerability score gave (codes["response_days"]) and their
referral date, in working days (bank holidays of England and Wales), as a referral saved today is.
Downgrade takes it out again.

Revision ID: 20261206_0016
Revises: 20261206_0014 (the revisions of 6 December were written side by side and chained in the order they landed)
Create Date: 2026-12-06
"""
import datetime as dt
import json
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_0016'
down_revision = '20261206_0014'
branch_labels = None
depends_on = None


def upgrade():
    _set_response_due_on(fill=True)

    op.create_table(
        'asb_interventions',
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('respondent_number', sa.Integer(), nullable=False),
        sa.Column('rung', sa.String(length=24), nullable=False),
        sa.Column('taken_on', sa.Date(), nullable=False),
        sa.Column('agency_id', sa.Uuid(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('review_on', sa.Date(), nullable=True),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('note', sa.LargeBinary(), nullable=True),
        sa.Column('recorded_by_id', sa.Uuid(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_asb_interventions_agency_id_agencies')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_asb_interventions_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_asb_interventions_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_asb_interventions')),
    )
    with op.batch_alter_table('asb_interventions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asb_interventions_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_asb_interventions_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_asb_interventions_review_on'), ['review_on'], unique=False)

    op.create_table(
        'asb_review_settings',
        sa.Column('panel_id', sa.Uuid(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('hate_threshold', sa.Integer(), nullable=False),
        sa.Column('window_months', sa.Integer(), nullable=False),
        sa.Column('acknowledge_days', sa.Integer(), nullable=False),
        sa.Column('decision_days', sa.Integer(), nullable=False),
        sa.Column('review_days', sa.Integer(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], name=op.f('fk_asb_review_settings_panel_id_panels')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_asb_review_settings')),
        sa.UniqueConstraint('panel_id', name=op.f('uq_asb_review_settings_panel_id')),
    )

    op.create_table(
        'asb_case_reviews',
        sa.Column('panel_id', sa.Uuid(), nullable=False),
        sa.Column('reference', sa.String(length=32), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('recorded_by_id', sa.Uuid(), nullable=False),
        sa.Column('recorded_agency_id', sa.Uuid(), nullable=False),
        sa.Column('complainant_name', sa.LargeBinary(), nullable=True),
        sa.Column('complainant_dob', sa.LargeBinary(), nullable=True),
        sa.Column('complainant_contact', sa.LargeBinary(), nullable=True),
        sa.Column('applicant', sa.LargeBinary(), nullable=True),
        sa.Column('summary', sa.LargeBinary(), nullable=True),
        sa.Column('name_dob_index', sa.String(length=16), nullable=True),
        sa.Column('is_hate', sa.Boolean(), nullable=False),
        sa.Column('other_complaints', sa.Integer(), nullable=False),
        sa.Column('complaints_found', sa.Integer(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('window_months', sa.Integer(), nullable=False),
        sa.Column('acknowledge_by', sa.Date(), nullable=False),
        sa.Column('decide_by', sa.Date(), nullable=False),
        sa.Column('acknowledged_on', sa.Date(), nullable=True),
        sa.Column('decision', sa.String(length=16), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('decision_reason', sa.LargeBinary(), nullable=True),
        sa.Column('review_by', sa.Date(), nullable=True),
        sa.Column('review_held_on', sa.Date(), nullable=True),
        sa.Column('review_notes', sa.LargeBinary(), nullable=True),
        sa.Column('appeal_received_on', sa.Date(), nullable=True),
        sa.Column('appeal_outcome', sa.String(length=16), nullable=True),
        sa.Column('appeal_decided_on', sa.Date(), nullable=True),
        sa.Column('appeal_notes', sa.LargeBinary(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], name=op.f('fk_asb_case_reviews_panel_id_panels')),
        sa.ForeignKeyConstraint(['recorded_agency_id'], ['agencies.id'],
                                name=op.f('fk_asb_case_reviews_recorded_agency_id_agencies')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_asb_case_reviews_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_asb_case_reviews')),
        sa.UniqueConstraint('reference', name=op.f('uq_asb_case_reviews_reference')),
    )
    with op.batch_alter_table('asb_case_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asb_case_reviews_panel_id'), ['panel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_asb_case_reviews_received_on'), ['received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_asb_case_reviews_decided_on'), ['decided_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_asb_case_reviews_review_held_on'), ['review_held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_asb_case_reviews_name_dob_index'), ['name_dob_index'], unique=False)

    op.create_table(
        'asb_review_recommendations',
        sa.Column('application_id', sa.Uuid(), nullable=False),
        sa.Column('owner_agency_id', sa.Uuid(), nullable=False),
        sa.Column('text', sa.LargeBinary(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('recorded_by_id', sa.Uuid(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['asb_case_reviews.id'],
                                name=op.f('fk_asb_review_recommendations_application_id_asb_case_reviews'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['owner_agency_id'], ['agencies.id'],
                                name=op.f('fk_asb_review_recommendations_owner_agency_id_agencies')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_asb_review_recommendations_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_asb_review_recommendations')),
    )
    with op.batch_alter_table('asb_review_recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asb_review_recommendations_application_id'), ['application_id'],
                              unique=False)


def _set_response_due_on(fill):
    """Add (fill) or take out the due date of every ASB case held, from its referral date and response
    time (working days)."""
    from marac.core.workdays import add_working_days

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT c.id, c.referred_on, c.codes FROM cases c JOIN panels p ON p.id = c.panel_id "
        "WHERE p.kind = 'ASB'")).all()
    cases = sa.table('cases', sa.column('id', sa.Uuid()), sa.column('codes', sa.JSON()))
    for case_id, referred_on, codes in rows:
        codes = dict(json.loads(codes) if isinstance(codes, str) else (codes or {}))
        if fill:
            days = codes.get('response_days')
            if not (days and referred_on):
                continue
            if isinstance(referred_on, str):
                referred_on = dt.date.fromisoformat(referred_on)
            codes['response_due_on'] = add_working_days(referred_on, int(days)).isoformat()
        elif codes.pop('response_due_on', None) is None:
            continue
        if not isinstance(case_id, uuid.UUID):
            case_id = uuid.UUID(str(case_id))
        bind.execute(cases.update().where(cases.c.id == case_id).values(codes=codes))


def downgrade():
    op.drop_table('asb_review_recommendations')
    op.drop_table('asb_case_reviews')
    op.drop_table('asb_review_settings')
    op.drop_table('asb_interventions')
    _set_response_due_on(fill=False)
