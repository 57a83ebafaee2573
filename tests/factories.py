"""factory_boy factories for the models the tests set up directly.

Every factory creates in the session current at creation time (conftest swaps `db.session` for one
bound to each test's outer transaction) and commits, as a request would: inside a test the commit
only releases a savepoint, rolled back at the end of the test.

Foreign keys are set as ids, from objects given as parameters (`UserFactory(agency=police)`), as the
application does: an object from an earlier request's session is read, never re-attached.

Encrypted attributes (`User.totp_secret`, `Case.referral`, `Action.description`) are ordinary
constructor arguments: the `init` event of UUIDPrimaryKey gives the row its id before any argument
is set, so each value is encrypted bound to its own row.
"""
import datetime as dt

import factory
import pyotp
from factory.alchemy import SQLAlchemyModelFactory

from marac.actions.models import Action, ActionStatus
from marac.agencies.models import Agency, AgencyKind
from marac.auth.passwords import hash_password
from marac.cases.models import Case, CaseStatus, RiskLevel
from marac.core import timeutil
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.meetings import services as meetings
from marac.meetings.models import Meeting
from marac.panels.models import Cadence, Panel, PanelKind, PanelMember, PanelRole, Role
from marac.users.models import User

PASSWORD = "correct-horse-battery-staple"


def days_from_today(days):
    """A declaration: the date `days` from today, when the object is made."""
    return factory.LazyFunction(lambda: timeutil.today() + dt.timedelta(days=days))


def current_session():
    """The session in use now: conftest replaces `db.session` for each test."""
    return db.session


class Factory(SQLAlchemyModelFactory):
    """Creates in the current session (looked up at each creation) and commits."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = current_session
        sqlalchemy_session_persistence = "commit"


class AgencyFactory(Factory):
    """AgencyFactory(kind=AgencyKind.POLICE, name=...): an active agency with a unique name and short name."""

    class Meta:
        model = Agency

    kind = AgencyKind.POLICE
    name = factory.Sequence(lambda n: f"Test Agency {n}")
    short_name = factory.Sequence(lambda n: f"TA{n}")


class UserFactory(Factory):
    """UserFactory(agency=None, is_admin=False, mfa=True, must_change_password=False, password=PASSWORD,
    email=..., full_name=...): a user of a new agency unless given one, with an enrolled authenticator
    unless mfa=False."""

    class Meta:
        model = User

    class Params:
        agency = factory.SubFactory(AgencyFactory)
        password = PASSWORD
        mfa = True

    agency_id = factory.SelfAttribute("agency.id")
    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Test User {n}")
    password_hash = factory.LazyAttribute(lambda o: hash_password(o.password))
    is_admin = False
    must_change_password = False
    totp_secret = factory.Maybe("mfa", factory.LazyFunction(pyotp.random_base32), None)
    totp_enrolled_at = factory.Maybe("mfa", factory.LazyFunction(utcnow), None)


class PanelFactory(Factory):
    """PanelFactory(kind=PanelKind.MARAC, **columns): a fortnightly Tuesday panel in Testborough, capacity 25."""

    class Meta:
        model = Panel

    kind = PanelKind.MARAC
    name = factory.Sequence(lambda n: f"Test Panel {n}")
    area = "Testborough"
    cadence = Cadence.FORTNIGHTLY
    weekday = 1
    agenda_lead_days = 8
    capacity = 25


class PanelMemberFactory(Factory):
    """PanelMemberFactory(panel=..., agency=..., is_core=True): an agency sitting on a panel."""

    class Meta:
        model = PanelMember

    class Params:
        panel = factory.SubFactory(PanelFactory)
        agency = factory.SubFactory(AgencyFactory)

    panel_id = factory.SelfAttribute("panel.id")
    agency_id = factory.SelfAttribute("agency.id")
    is_core = True


class PanelRoleFactory(Factory):
    """PanelRoleFactory(panel=..., user=..., role=Role.REPRESENTATIVE): a user's role on a panel."""

    class Meta:
        model = PanelRole

    class Params:
        panel = factory.SubFactory(PanelFactory)
        user = factory.SubFactory(UserFactory)

    panel_id = factory.SelfAttribute("panel.id")
    user_id = factory.SelfAttribute("user.id")
    role = Role.REPRESENTATIVE


class CaseFactory(Factory):
    """CaseFactory(panel=..., referrer=..., status=CaseStatus.SUBMITTED, referred_on=today, reference=..., **columns):
    a case with a minimal referral and no people, referred by the referrer's agency; sent_referral is the
    referral unless a draft."""

    class Meta:
        model = Case

    class Params:
        panel = factory.SubFactory(PanelFactory)
        referrer = factory.SubFactory(UserFactory)

    panel_id = factory.SelfAttribute("panel.id")
    referrer_user_id = factory.SelfAttribute("referrer.id")
    referring_agency_id = factory.SelfAttribute("referrer.agency_id")
    status = CaseStatus.SUBMITTED
    referred_on = days_from_today(0)
    reference = factory.LazyAttributeSequence(lambda o, n: f"{o.panel.kind}-2026-{9000 + n}")
    codes = factory.LazyFunction(dict)
    risk_level = RiskLevel.HIGH
    risk_score = 15
    referral = factory.LazyFunction(lambda: {"referrer_name": "Rita Referrer-Test"})
    # What the referrer sent, as a submission through the service records it (a draft has none yet).
    sent_referral = factory.LazyAttribute(lambda o: None if o.status == CaseStatus.DRAFT else dict(o.referral))


class MeetingFactory(Factory):
    """MeetingFactory(panel=..., manager=None, meets_on=in 14 days, starts_at=10:00, cases=(), published=False).

    Created through the meeting services, as the manager would (audit events included): added,
    `cases` listed in order, then the agenda published if asked. Built (`.build()`) as a plain
    unsaved Meeting of the panel."""

    class Meta:
        model = Meeting

    panel = factory.SubFactory(PanelFactory)
    meets_on = days_from_today(14)
    starts_at = dt.time(10)
    manager = None
    cases = ()
    published = False

    @classmethod
    def _build(cls, model_class, *args, manager=None, cases=(), published=False, **kwargs):
        """A plain Meeting: who adds it and what it lists only matter when it is created."""
        return model_class(*args, **kwargs)

    @classmethod
    def _create(cls, model_class, *, panel, meets_on, starts_at, manager=None, cases=(), published=False):
        """Add, list and publish through the services, then commit."""
        meeting = meetings.add_meeting(manager, panel, meets_on, starts_at)
        for case in cases:
            meetings.list_case(manager, meeting, case)
        if published:
            meetings.publish(manager, meeting)
        db.session.commit()
        return meeting


class ActionFactory(Factory):
    """ActionFactory(item=..., owner_agency=..., due_on=in 7 days, description=..., status=ActionStatus.OPEN): an
    action on an agenda item's case. `item` is required."""

    class Meta:
        model = Action

    class Params:
        item = None
        owner_agency = factory.SubFactory(AgencyFactory)

    case_id = factory.SelfAttribute("item.case_id")
    agenda_item_id = factory.SelfAttribute("item.id")
    owner_agency_id = factory.SelfAttribute("owner_agency.id")
    due_on = days_from_today(7)
    status = ActionStatus.OPEN
    description = "Invented action for tests"
