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
import contextlib
import datetime as dt

import factory
import pyotp
from factory.alchemy import SQLAlchemyModelFactory

from marac.actions.models import Action, ActionStatus
from marac.agencies.models import Agency, AgencyKind
from marac.auth.passwords import hash_password
from marac.cases.models import Case, CaseParty, CaseStatus, PartyRole, RiskLevel
from marac.core import timeutil
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.meetings import services as meetings
from marac.meetings.models import (AgendaItem, Attendance, AttendanceStatus, Attendee, ItemStatus, Meeting,
                                   MeetingStatus, ResearchReturn)
from marac.panels.models import Cadence, Panel, PanelKind, PanelMember, PanelRole, Role
from marac.people.models import EthnicGroup, Gender, Person, Sexuality, YesNoUnknown
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
        # The test's date is its own choice (a weekend included): the working-day rule has its own tests.
        meeting = meetings.add_meeting(manager, panel, meets_on, starts_at, anyway=True)
        for case in cases:
            meetings.list_case(manager, meeting, case)
        if published:
            meetings.publish(manager, meeting)
        db.session.commit()
        return meeting


@contextlib.contextmanager
def on_its_day(meeting):
    """The clock at 09:30 UTC on the meeting's day (when it is still to come) for the steps of the block,
    and back afterwards: a meeting is opened, and held, on its day."""
    from marac.core import timeutil

    before = timeutil._offset
    if timeutil.today() < meeting.meets_on:
        morning = dt.datetime.combine(meeting.meets_on, dt.time(9, 30), tzinfo=dt.timezone.utc)
        timeutil.set_offset(morning - dt.datetime.now(dt.timezone.utc))
    try:
        yield
    finally:
        timeutil.set_offset(before)


def open_on_its_day(actor, meeting):
    """Open the meeting as its manager would on its day (a meeting cannot be opened earlier): the clock
    is moved to that morning for the step, and back."""
    with on_its_day(meeting):
        return meetings.open_meeting(actor, meeting)


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


# --- meetings as they stand once held, and the people of a case (the statistics' tests) ---------

def _noon(day):
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone.utc)


class PersonFactory(Factory):
    """PersonFactory(gender=..., ethnic_group=..., disability=..., sexuality=..., age_band=..., first_names=...,
    last_name=..., postcode=...): a person with coded categories (plain) and, when given, encrypted names."""

    class Meta:
        model = Person

    gender = Gender.FEMALE
    ethnic_group = EthnicGroup.WHITE_BRITISH
    disability = YesNoUnknown.NO
    sexuality = Sexuality.HETEROSEXUAL
    age_band = "25-34"


class CasePartyFactory(Factory):
    """CasePartyFactory(case=..., person=..., role=PartyRole.VICTIM): a person's part in a case."""

    class Meta:
        model = CaseParty

    class Params:
        case = None
        person = factory.SubFactory(PersonFactory)

    case_id = factory.SelfAttribute("case.id")
    person_id = factory.SelfAttribute("person.id")
    role = PartyRole.VICTIM
    position = 0


class HeldMeetingFactory(Factory):
    """HeldMeetingFactory(panel=..., meets_on=..., published_on=..., finalised_on=...): a meeting already
    held and closed, its agenda published and its minutes finalised on those days (at noon UTC)."""

    class Meta:
        model = Meeting

    class Params:
        panel = factory.SubFactory(PanelFactory)
        published_on = factory.LazyAttribute(lambda o: o.meets_on - dt.timedelta(days=10))
        finalised_on = factory.LazyAttribute(lambda o: o.meets_on + dt.timedelta(days=1))

    panel_id = factory.SelfAttribute("panel.id")
    meets_on = days_from_today(-14)
    starts_at = dt.time(10)
    status = MeetingStatus.HELD
    agenda_published_at = factory.LazyAttribute(lambda o: _noon(o.published_on))
    opened_at = factory.LazyAttribute(lambda o: _noon(o.meets_on))
    closed_at = factory.LazyAttribute(lambda o: _noon(o.meets_on))
    minutes_finalised_at = factory.LazyAttribute(lambda o: _noon(o.finalised_on) if o.finalised_on else None)


class AgendaItemFactory(Factory):
    """AgendaItemFactory(meeting=..., case=..., position=1, status=ItemStatus.HEARD): a case listed (and
    heard) at a meeting."""

    class Meta:
        model = AgendaItem

    class Params:
        meeting = None
        case = None

    meeting_id = factory.SelfAttribute("meeting.id")
    case_id = factory.SelfAttribute("case.id")
    position = factory.Sequence(lambda n: n + 1)
    status = ItemStatus.HEARD


class AttendanceFactory(Factory):
    """AttendanceFactory(meeting=..., agency=..., status=AttendanceStatus.PRESENT, is_core=True): a line of the
    register."""

    class Meta:
        model = Attendance

    class Params:
        meeting = None
        agency = None

    meeting_id = factory.SelfAttribute("meeting.id")
    agency_id = factory.SelfAttribute("agency.id")
    status = AttendanceStatus.PRESENT
    is_core = True


class AttendeeFactory(Factory):
    """AttendeeFactory(meeting=..., agency=None, name=..., agreed=True): someone at a meeting, and whether
    they agreed to the confidentiality statement."""

    class Meta:
        model = Attendee

    class Params:
        meeting = None
        agency = None
        agreed = True

    meeting_id = factory.SelfAttribute("meeting.id")
    agency_id = factory.LazyAttribute(lambda o: o.agency.id if o.agency else None)
    name = factory.Sequence(lambda n: f"Invented Attendee {n}")
    confidentiality_agreed_at = factory.LazyAttribute(lambda o: _noon(o.meeting.meets_on) if o.agreed else None)


class ResearchReturnFactory(Factory):
    """ResearchReturnFactory(item=..., agency=..., by=user, at=datetime): an agency's research for a listed
    case, first saved at `at`."""

    class Meta:
        model = ResearchReturn

    class Params:
        item = None
        agency = None
        by = None
        at = factory.LazyFunction(utcnow)

    agenda_item_id = factory.SelfAttribute("item.id")
    agency_id = factory.SelfAttribute("agency.id")
    nothing_held = True
    updated_by_id = factory.SelfAttribute("by.id")
    updated_at = factory.SelfAttribute("at")
    created_at = factory.SelfAttribute("at")
