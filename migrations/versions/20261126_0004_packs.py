"""Meeting packs: the encrypted renders of each meeting's packs per redaction profile, the builds
that make them (their progress) and the issues (one stamped copy per download, traceable by its code
and SHA-256); panels get the number of days a pack is kept.

Revision ID: 20261126_0004
Revises: 20261122_0003
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261126_0004'
down_revision = '20261122_0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pack_builds',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_by_id', sa.Uuid(), nullable=True),
    sa.Column('error', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_pack_builds_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_pack_builds_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_builds'))
    )
    with op.batch_alter_table('pack_builds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_builds_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('pack_renders',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('build_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('profile', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('built_by_id', sa.Uuid(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['build_id'], ['pack_builds.id'], name=op.f('fk_pack_renders_build_id_pack_builds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['built_by_id'], ['users.id'], name=op.f('fk_pack_renders_built_by_id_users')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_pack_renders_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_renders'))
    )
    with op.batch_alter_table('pack_renders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_renders_build_id'), ['build_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_renders_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_renders_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_renders_sha256'), ['sha256'], unique=False)

    op.create_table('pack_issues',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('render_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_pack_issues_agency_id_agencies')),
    sa.ForeignKeyConstraint(['render_id'], ['pack_renders.id'], name=op.f('fk_pack_issues_render_id_pack_renders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pack_issues_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_issues')),
    sa.UniqueConstraint('code', name=op.f('uq_pack_issues_code'))
    )
    with op.batch_alter_table('pack_issues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_issues_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_issues_render_id'), ['render_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_issues_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_issues_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pack_retention_days', sa.Integer(), nullable=False, server_default='28'))


def downgrade():
    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.drop_column('pack_retention_days')

    with op.batch_alter_table('pack_issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_issues_user_id'))
        batch_op.drop_index(batch_op.f('ix_pack_issues_sha256'))
        batch_op.drop_index(batch_op.f('ix_pack_issues_render_id'))
        batch_op.drop_index(batch_op.f('ix_pack_issues_agency_id'))

    op.drop_table('pack_issues')
    with op.batch_alter_table('pack_renders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_renders_sha256'))
        batch_op.drop_index(batch_op.f('ix_pack_renders_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_pack_renders_expires_at'))
        batch_op.drop_index(batch_op.f('ix_pack_renders_build_id'))

    op.drop_table('pack_renders')
    with op.batch_alter_table('pack_builds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_builds_meeting_id'))

    op.drop_table('pack_builds')
