"""Cases: referrals, people with encrypted identifiers and blind indexes, locations, case history,
sharing rules and the sharing log; panels get the lawful basis recorded with each disclosure.

Revision ID: 20261122_0002
Revises: 20261122_0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261122_0002'
down_revision = '20261122_0001'
branch_labels = None
depends_on = None

DEFAULT_LAWFUL_BASIS = ("UK GDPR Art. 6(1)(e) public task; Art. 9(2)(g) and DPA 2018 Sch. 1 para. 18 "
                        "safeguarding; Art. 10 and DPA 2018 Sch. 1; Crime and Disorder Act 1998 s.115")


def upgrade():
    op.create_table('locations',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('postcode_index', sa.String(length=16), nullable=True),
    sa.Column('address_index', sa.String(length=16), nullable=True),
    sa.Column('description', sa.LargeBinary(), nullable=True),
    sa.Column('address', sa.LargeBinary(), nullable=True),
    sa.Column('postcode', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locations_address_index'), ['address_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_locations_postcode_index'), ['postcode_index'], unique=False)

    op.create_table('people',
    sa.Column('postcode_index', sa.String(length=16), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.Column('ethnic_group', sa.String(length=32), nullable=True),
    sa.Column('disability', sa.String(length=16), nullable=True),
    sa.Column('sexuality', sa.String(length=16), nullable=True),
    sa.Column('age_band', sa.String(length=8), nullable=True),
    sa.Column('first_names', sa.LargeBinary(), nullable=True),
    sa.Column('last_name', sa.LargeBinary(), nullable=True),
    sa.Column('date_of_birth', sa.LargeBinary(), nullable=True),
    sa.Column('address', sa.LargeBinary(), nullable=True),
    sa.Column('postcode', sa.LargeBinary(), nullable=True),
    sa.Column('phone', sa.LargeBinary(), nullable=True),
    sa.Column('details', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people'))
    )
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_people_postcode_index'), ['postcode_index'], unique=False)

    op.create_table('reference_counters',
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_reference_counters'))
    )
    op.create_table('person_names',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('is_alias', sa.Boolean(), nullable=False),
    sa.Column('name_dob_index', sa.String(length=16), nullable=True),
    sa.Column('full_name', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_names_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_names'))
    )
    with op.batch_alter_table('person_names', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_names_name_dob_index'), ['name_dob_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_names_person_id'), ['person_id'], unique=False)

    op.create_table('sharing_rules',
    sa.Column('panel_id', sa.Uuid(), nullable=False),
    sa.Column('agency_kind', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('is_allowed', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], name=op.f('fk_sharing_rules_panel_id_panels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_rules')),
    sa.UniqueConstraint('panel_id', 'agency_kind', 'category', name=op.f('uq_sharing_rules_panel_id_agency_kind_category'))
    )
    with op.batch_alter_table('sharing_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sharing_rules_panel_id'), ['panel_id'], unique=False)

    op.create_table('cases',
    sa.Column('panel_id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('referrer_user_id', sa.Uuid(), nullable=False),
    sa.Column('referring_agency_id', sa.Uuid(), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('screened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('screened_by_id', sa.Uuid(), nullable=True),
    sa.Column('criterion', sa.String(length=32), nullable=True),
    sa.Column('risk_score', sa.Integer(), nullable=True),
    sa.Column('risk_level', sa.String(length=16), nullable=True),
    sa.Column('police_incidents', sa.Integer(), nullable=True),
    sa.Column('is_repeat', sa.Boolean(), nullable=False),
    sa.Column('repeat_of_id', sa.Uuid(), nullable=True),
    sa.Column('codes', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('screening_reason', sa.LargeBinary(), nullable=True),
    sa.Column('referral', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], name=op.f('fk_cases_panel_id_panels')),
    sa.ForeignKeyConstraint(['referrer_user_id'], ['users.id'], name=op.f('fk_cases_referrer_user_id_users')),
    sa.ForeignKeyConstraint(['referring_agency_id'], ['agencies.id'], name=op.f('fk_cases_referring_agency_id_agencies')),
    sa.ForeignKeyConstraint(['repeat_of_id'], ['cases.id'], name=op.f('fk_cases_repeat_of_id_cases')),
    sa.ForeignKeyConstraint(['screened_by_id'], ['users.id'], name=op.f('fk_cases_screened_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_is_repeat'), ['is_repeat'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_panel_id'), ['panel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_referred_on'), ['referred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_referrer_user_id'), ['referrer_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_referring_agency_id'), ['referring_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_risk_level'), ['risk_level'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_status'), ['status'], unique=False)

    op.create_table('case_changes',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('old_values', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_changes_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_changes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_changes'))
    )
    with op.batch_alter_table('case_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_changes_case_id'), ['case_id'], unique=False)

    op.create_table('case_locations',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_locations_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_case_locations_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_locations')),
    sa.UniqueConstraint('case_id', 'location_id', name=op.f('uq_case_locations_case_id_location_id'))
    )
    with op.batch_alter_table('case_locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_locations_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_locations_location_id'), ['location_id'], unique=False)

    op.create_table('case_parties',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('relationship_to_subject', sa.String(length=32), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_parties_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_case_parties_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_parties'))
    )
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_parties_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_parties_person_id'), ['person_id'], unique=False)

    op.create_table('sharing_records',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('lawful_basis', sa.String(length=300), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_sharing_records_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_sharing_records_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sharing_records_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_records'))
    )
    with op.batch_alter_table('sharing_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sharing_records_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sharing_records_shared_at'), ['shared_at'], unique=False)

    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lawful_basis', sa.String(length=300), nullable=False,
                                      server_default=DEFAULT_LAWFUL_BASIS))



def downgrade():
    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.drop_column('lawful_basis')

    with op.batch_alter_table('sharing_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sharing_records_shared_at'))
        batch_op.drop_index(batch_op.f('ix_sharing_records_case_id'))

    op.drop_table('sharing_records')
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_parties_person_id'))
        batch_op.drop_index(batch_op.f('ix_case_parties_case_id'))

    op.drop_table('case_parties')
    with op.batch_alter_table('case_locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_locations_location_id'))
        batch_op.drop_index(batch_op.f('ix_case_locations_case_id'))

    op.drop_table('case_locations')
    with op.batch_alter_table('case_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_changes_case_id'))

    op.drop_table('case_changes')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_status'))
        batch_op.drop_index(batch_op.f('ix_cases_risk_level'))
        batch_op.drop_index(batch_op.f('ix_cases_referring_agency_id'))
        batch_op.drop_index(batch_op.f('ix_cases_referrer_user_id'))
        batch_op.drop_index(batch_op.f('ix_cases_referred_on'))
        batch_op.drop_index(batch_op.f('ix_cases_panel_id'))
        batch_op.drop_index(batch_op.f('ix_cases_is_repeat'))

    op.drop_table('cases')
    with op.batch_alter_table('sharing_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sharing_rules_panel_id'))

    op.drop_table('sharing_rules')
    with op.batch_alter_table('person_names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_names_person_id'))
        batch_op.drop_index(batch_op.f('ix_person_names_name_dob_index'))

    op.drop_table('person_names')
    op.drop_table('reference_counters')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_postcode_index'))

    op.drop_table('people')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations_postcode_index'))
        batch_op.drop_index(batch_op.f('ix_locations_address_index'))

    op.drop_table('locations')
