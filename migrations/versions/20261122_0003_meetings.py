"""Meetings: schedule, agenda items, the register and attendees, research returns, minute
amendments, actions and their updates; panels get the meeting time, the minutes and action
deadlines and the confidentiality statement.

Revision ID: 20261122_0003
Revises: 20261122_0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261122_0003'
down_revision = '20261122_0002'
branch_labels = None
depends_on = None

DEFAULT_CONFIDENTIALITY = (
    "Everything shared at this meeting is confidential. It is shared only to reduce the risk of harm to the "
    "people discussed, under the panel's information-sharing protocol. Do not pass it on except within your "
    "agency for that purpose, keep any notes secure, and do not contact the people discussed about what was "
    "shared without agreeing it with the panel.")


def upgrade():
    op.create_table('meetings',
    sa.Column('panel_id', sa.Uuid(), nullable=False),
    sa.Column('meets_on', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('agenda_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes_finalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes_finalised_by_id', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['minutes_finalised_by_id'], ['users.id'], name=op.f('fk_meetings_minutes_finalised_by_id_users')),
    sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], name=op.f('fk_meetings_panel_id_panels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_meets_on'), ['meets_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_panel_id'), ['panel_id'], unique=False)

    op.create_table('agenda_items',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('heard_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('risk_summary', sa.LargeBinary(), nullable=True),
    sa.Column('minute', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_agenda_items_case_id_cases')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_agenda_items_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_items')),
    sa.UniqueConstraint('meeting_id', 'case_id', name=op.f('uq_agenda_items_meeting_id_case_id'))
    )
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_items_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agenda_items_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('attendances',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('is_core', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_attendances_agency_id_agencies')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_attendances_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendances')),
    sa.UniqueConstraint('meeting_id', 'agency_id', name=op.f('uq_attendances_meeting_id_agency_id'))
    )
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendances_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendances_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('attendees',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=120), nullable=False),
    sa.Column('is_observer', sa.Boolean(), nullable=False),
    sa.Column('confidentiality_agreed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_attendees_agency_id_agencies')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_attendees_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendees'))
    )
    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendees_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('actions',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('agenda_item_id', sa.Uuid(), nullable=False),
    sa.Column('owner_agency_id', sa.Uuid(), nullable=False),
    sa.Column('named_person', sa.String(length=120), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_chased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('description', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], name=op.f('fk_actions_agenda_item_id_agenda_items')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_actions_case_id_cases')),
    sa.ForeignKeyConstraint(['owner_agency_id'], ['agencies.id'], name=op.f('fk_actions_owner_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actions_agenda_item_id'), ['agenda_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_owner_agency_id'), ['owner_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_status'), ['status'], unique=False)

    op.create_table('minute_amendments',
    sa.Column('agenda_item_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('previous_minute', sa.LargeBinary(), nullable=True),
    sa.Column('reason', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], name=op.f('fk_minute_amendments_agenda_item_id_agenda_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_minute_amendments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minute_amendments'))
    )
    with op.batch_alter_table('minute_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minute_amendments_agenda_item_id'), ['agenda_item_id'], unique=False)

    op.create_table('research_returns',
    sa.Column('agenda_item_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('nothing_held', sa.Boolean(), nullable=False),
    sa.Column('lawful_basis', sa.String(length=32), nullable=True),
    sa.Column('is_shared', sa.Boolean(), nullable=False),
    sa.Column('updated_by_id', sa.Uuid(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('relevant', sa.LargeBinary(), nullable=True),
    sa.Column('to_share', sa.LargeBinary(), nullable=True),
    sa.Column('withheld', sa.LargeBinary(), nullable=True),
    sa.Column('withheld_reason', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_research_returns_agency_id_agencies')),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], name=op.f('fk_research_returns_agenda_item_id_agenda_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_research_returns_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_research_returns')),
    sa.UniqueConstraint('agenda_item_id', 'agency_id', name=op.f('uq_research_returns_agenda_item_id_agency_id'))
    )
    with op.batch_alter_table('research_returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_research_returns_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_research_returns_agenda_item_id'), ['agenda_item_id'], unique=False)

    op.create_table('action_updates',
    sa.Column('action_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_updates_action_id_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_action_updates_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_updates'))
    )
    with op.batch_alter_table('action_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_updates_action_id'), ['action_id'], unique=False)

    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_time', sa.Time(), nullable=False, server_default='10:00:00'))
        batch_op.add_column(sa.Column('minutes_days', sa.Integer(), nullable=False, server_default='3'))
        batch_op.add_column(sa.Column('action_due_days', sa.Integer(), nullable=False, server_default='28'))
        batch_op.add_column(sa.Column('confidentiality_statement', sa.Text(), nullable=False,
                                      server_default=DEFAULT_CONFIDENTIALITY))



def downgrade():
    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.drop_column('confidentiality_statement')
        batch_op.drop_column('action_due_days')
        batch_op.drop_column('minutes_days')
        batch_op.drop_column('meeting_time')

    with op.batch_alter_table('action_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_updates_action_id'))

    op.drop_table('action_updates')
    with op.batch_alter_table('research_returns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_research_returns_agenda_item_id'))
        batch_op.drop_index(batch_op.f('ix_research_returns_agency_id'))

    op.drop_table('research_returns')
    with op.batch_alter_table('minute_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minute_amendments_agenda_item_id'))

    op.drop_table('minute_amendments')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actions_status'))
        batch_op.drop_index(batch_op.f('ix_actions_owner_agency_id'))
        batch_op.drop_index(batch_op.f('ix_actions_due_on'))
        batch_op.drop_index(batch_op.f('ix_actions_case_id'))
        batch_op.drop_index(batch_op.f('ix_actions_agenda_item_id'))

    op.drop_table('actions')
    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendees_meeting_id'))

    op.drop_table('attendees')
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendances_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_attendances_agency_id'))

    op.drop_table('attendances')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_items_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_agenda_items_case_id'))

    op.drop_table('agenda_items')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_panel_id'))
        batch_op.drop_index(batch_op.f('ix_meetings_meets_on'))

    op.drop_table('meetings')
