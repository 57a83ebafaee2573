"""Case-owned records: split the locations and persons of concern that several cases share today.

Until now a location typed on a referral reused any location on record with the same address (an
ASB case then showed a MACE case's description, and lost its referrer's own), and a person of
concern reused the panel's record of the same name and date of birth (with the aliases another
referrer gave). From now on every case has its own Person and Location rows, built from its own
answers; cases are linked by blind index only. This revision gives each case linked to a shared
row its own rows again, rebuilt from what its referrer answered (Case.referral), through the app's
own service (cases.services.rebuild_parties), so that encryption, blind indexes and the coded
columns are exactly those of a referral saved today. The shared rows are then deleted. Each case
rebuilt gets an audit event.

No schema change. The shared rows are found in plain SQL; the services (and so the ORM models as
they are when this runs) are used only when there is something to split, inside the migration's own
transaction (the session is bound to its connection).

Downgrade leaves the data as it is: the earlier code reads per-case rows correctly (it only stops
reusing them for new referrals), and re-merging rows would bring back the very disclosure this
revision removes; which rows were shared is not kept anywhere to merge them back from.

Revision ID: 20261126_0010
Revises: 20261126_0009 (last of its day: it rebuilds records through the app's models, so it must
run on a schema that already has every column those models map)
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261126_0010'
down_revision = '20261126_0009'
branch_labels = None
depends_on = None

# Cases linked to a location or a person of concern that another case is linked to as well.
SHARED = sa.text("""
    SELECT DISTINCT cl.case_id AS case_id FROM case_locations cl
     WHERE cl.location_id IN (SELECT location_id FROM case_locations GROUP BY location_id HAVING COUNT(*) > 1)
    UNION
    SELECT DISTINCT cp.case_id AS case_id FROM case_parties cp
     WHERE cp.person_id IN (SELECT person_id FROM case_parties GROUP BY person_id HAVING COUNT(*) > 1)
""")


def upgrade():
    bind = op.get_bind()
    case_ids = [row.case_id for row in bind.execute(SHARED)]
    if case_ids:
        _split(bind, case_ids)


def _split(bind, case_ids):
    import uuid

    from sqlalchemy.orm import scoped_session, sessionmaker

    from marac.audit.services import record
    from marac.cases.models import Case, CaseLocation, CaseParty
    from marac.cases.services import rebuild_parties
    from marac.extensions import db
    from marac.people.models import Location, Person

    original = db.session
    # The app's services use db.session: bind it to this migration's connection, inside a savepoint
    # released (session.commit) at the end; Alembic commits the transaction itself.
    db.session = scoped_session(sessionmaker(bind=bind, join_transaction_mode="create_savepoint"))
    try:
        session = db.session
        shared_people, shared_locations = set(), set()
        for case_id in case_ids:
            case = session.get(Case, case_id if isinstance(case_id, uuid.UUID) else uuid.UUID(str(case_id)))
            # Take the case's links to shared rows away first: rebuild_parties deletes the case's old
            # rows, which must be its own; the shared ones go below, once no case links them.
            for party in list(case.parties):
                if _links(session, CaseParty.person_id, party.person_id) > 1:
                    shared_people.add(party.person_id)
                    case.parties.remove(party)
            for link in list(case.locations):
                if _links(session, CaseLocation.location_id, link.location_id) > 1:
                    shared_locations.add(link.location_id)
                    case.locations.remove(link)
            session.flush()
            rebuild_parties(case, case.referral or {})
            record("case.records_rebuilt", None, case, detail={"reason": "shared records split"})
        for model, link, ids in ((Person, CaseParty.person_id, shared_people),
                                 (Location, CaseLocation.location_id, shared_locations)):
            for record_id in ids:
                stale = session.get(model, record_id)  # None when a rebuild deleted it already
                if stale is not None and _links(session, link, record_id) == 0:
                    session.delete(stale)
        session.commit()
    finally:
        db.session.remove()
        db.session = original


def _links(session, column, record_id):
    from sqlalchemy import func, select

    return session.execute(select(func.count(column)).where(column == record_id)).scalar_one()


def downgrade():
    pass  # data only, and deliberately not merged back: see the note at the top
