"""Meeting, AgendaItem, Attendance, Attendee, ResearchReturn, MinuteAmendment."""
import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Time, UniqueConstraint, Uuid, event, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.orm.attributes import get_history, set_committed_value
from sqlalchemy.orm.util import identity_key

from marac.cases.models import Case
from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.core.workdays import add_working_days
from marac.extensions import db
from marac.panels.models import Role


class MeetingStatus(Labelled):
    """Where a meeting is in its cycle: scheduled, running, held (closed) or cancelled."""

    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class AttendanceStatus(Labelled):
    """How a member agency took part in a meeting (the register)."""

    PRESENT = "present", "Present"
    DEPUTY = "deputy", "Deputy sent"
    APOLOGIES_INFO = "apologies_info", "Apologies, information sent"
    APOLOGIES = "apologies", "Apologies, no information sent"
    ABSENT = "absent", "Absent"


# The attendance statuses that mean someone was there for the agency.
ATTENDED = frozenset({AttendanceStatus.PRESENT, AttendanceStatus.DEPUTY})


class RegisterCorrection(Labelled):
    """Why someone on the register is corrected or removed before the minutes are final (a code, so
    that the audit trail holds no free text)."""

    MISSPELT = "misspelt", "The name or role was written wrongly"
    WRONG_AGENCY = "wrong_agency", "They attend for another agency (or as an observer)"
    DID_NOT_ATTEND = "did_not_attend", "They did not attend"
    ADDED_IN_ERROR = "added_in_error", "They were added in error"
    DUPLICATE = "duplicate", "They are on the register twice"

    @classmethod
    def corrections(cls):
        """The reasons to correct someone's details."""
        return [cls.MISSPELT, cls.WRONG_AGENCY]

    @classmethod
    def removals(cls):
        """The reasons to take someone off the register."""
        return [cls.DID_NOT_ATTEND, cls.ADDED_IN_ERROR, cls.DUPLICATE]


class ItemStatus(Labelled):
    """What became of a case listed on an agenda."""

    LISTED = "listed", "Listed"
    HEARD = "heard", "Heard"
    DEFERRED = "deferred", "Deferred"


class LawfulBasis(Labelled):
    """The lawful basis on which an agency shares its research with the panel."""

    PUBLIC_TASK = "public_task", "UK GDPR Art. 6(1)(e) public task"
    VITAL_INTERESTS = "vital_interests", "UK GDPR Art. 6(1)(d) vital interests"
    SAFEGUARDING = "safeguarding", "Art. 9(2)(g) / DPA 2018 Sch. 1 para. 18 safeguarding"
    CRIME_DISORDER = "crime_disorder", "Crime and Disorder Act 1998 s.115"


class Meeting(UUIDPrimaryKey, Timestamps, db.Model):
    """One meeting of a panel: its agenda (items), register (attendances, attendees) and minutes."""

    __tablename__ = "meetings"

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, index=True)
    meets_on: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    starts_at: Mapped[dt.time] = mapped_column(Time, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=MeetingStatus.SCHEDULED)
    agenda_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The agenda deadline that applied when the agenda went out (the panel's lead time may change
    # later): what the timeliness figures measure a late agenda against.
    agenda_due_on: Mapped[dt.date | None] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_finalised_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    panel = relationship("Panel")
    items = relationship("AgendaItem", back_populates="meeting", order_by="AgendaItem.position",
                         cascade="all, delete-orphan")
    attendances = relationship("Attendance", back_populates="meeting", cascade="all, delete-orphan")
    attendees = relationship("Attendee", back_populates="meeting", order_by="Attendee.created_at",
                             cascade="all, delete-orphan")

    @property
    def agenda_deadline(self):
        """The agenda goes out this many working days before the meeting (set per panel); once
        published, the deadline that applied then."""
        return self.agenda_due_on or add_working_days(self.meets_on, -self.panel.agenda_lead_days)

    def agenda_is_late(self, on):
        """Whether the agenda is (or went out) after its deadline, as of the date `on`."""
        if self.agenda_published_at is not None:
            return self.agenda_published_at.date() > self.agenda_deadline
        return on > self.agenda_deadline

    @property
    def minutes_deadline(self):
        """Minutes are due this many working days after the meeting (set per panel)."""
        return add_working_days(self.meets_on, self.panel.minutes_days)

    @property
    def research_deadline(self):
        """Agencies return research by the working day before the meeting."""
        return add_working_days(self.meets_on, -1)

    @property
    def is_published(self):
        """Whether the agenda has gone out to the member agencies."""
        return self.agenda_published_at is not None

    @property
    def minutes_locked(self):
        """Whether the minutes are final: later corrections are amendments."""
        return self.minutes_finalised_at is not None

    @property
    def status_label(self):
        """The status in words."""
        return MeetingStatus.label_of(self.status)

    @property
    def unheard_items(self):
        """The items not heard (listed or deferred), in agenda order: what carrying over moves on."""
        return [i for i in sorted(self.items, key=lambda i: i.position) if i.status != ItemStatus.HEARD]

    def can_view(self, user):
        """Manager and chair always; representatives of member agencies once the agenda is published."""
        if not self.panel.can_view(user):
            return False
        roles = self.panel.roles_of(user)
        if roles & {Role.MANAGER, Role.CHAIR}:
            return True
        return Role.REPRESENTATIVE in roles and self.panel.is_member(user.agency_id) and self.is_published

    def can_manage(self, user):
        """Schedule, build the agenda, finalise and amend the minutes: the panel manager."""
        return self.can_view(user) and self.panel.is_manager(user)

    def can_run(self, user):
        """Run the meeting itself (register, hearings): the manager or the chair."""
        return self.can_view(user) and bool(self.panel.roles_of(user) & {Role.MANAGER, Role.CHAIR})

    def sat_on(self, agency_id):
        """Whether the agency sat on the meeting: present or represented by a deputy on its register."""
        return any(a.agency_id == agency_id and a.status in ATTENDED for a in self.attendances)

    def can_read_minutes(self, user):
        """The final minutes and action plan: those who run the meeting, and the representatives of
        every member agency that sat on it (each under its agency's sharing rules)."""
        if not (self.can_view(user) and self.minutes_locked):
            return False
        return self.can_run(user) or (Role.REPRESENTATIVE in self.panel.roles_of(user) and self.sat_on(user.agency_id))

    def can_view_register(self, user):
        """The register and who agreed to confidentiality: those who run the meeting, and everyone
        who sees the meeting once its minutes (which carry the register) are final."""
        return self.can_run(user) or (self.can_view(user) and self.minutes_locked)


class AgendaItem(UUIDPrimaryKey, Timestamps, db.Model):
    """A case listed at a meeting, with its risk summary and minute once heard."""

    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    meeting_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("meetings.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # active_history: its value before a change is always known (the hook below compares the two).
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ItemStatus.LISTED, active_history=True)
    risk_summary = Encrypted(str)
    minute = Encrypted(str)
    heard_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    meeting = relationship("Meeting", back_populates="items")
    case = relationship("Case")
    returns = relationship("ResearchReturn", back_populates="item", cascade="all, delete-orphan")
    amendments = relationship("MinuteAmendment", back_populates="item", order_by="MinuteAmendment.at",
                              cascade="all, delete-orphan")

    def can_view(self, user):
        """A listed case is seen by those who see both the meeting and the panel's record of the case."""
        return self.meeting.can_view(user) and self.case.can_view_record(user)

    def can_manage(self, user):
        """Order, unlist, and amend the minute of the item: the manager of its meeting."""
        return self.can_view(user) and self.meeting.can_manage(user)

    def can_hear(self, user):
        """The hearing of the case (risk summary, minute, actions): the manager or chair running it."""
        return self.can_view(user) and self.meeting.can_run(user)

    def can_research(self, user):
        """Representatives (and a chair) of a member agency record their agency's research once the
        agenda is published."""
        panel = self.meeting.panel
        return (self.can_view(user) and self.meeting.is_published and panel.is_member(user.agency_id)
                and bool(panel.roles_of(user) & {Role.REPRESENTATIVE, Role.CHAIR}))

    def can_view_research(self, user):
        """The research page of the item: those who research it, and the manager (who reads what is
        shared)."""
        return self.can_research(user) or self.can_manage(user)


@event.listens_for(Session, "before_flush")
def _heard_cases_stop_waiting(session, flush_context, instances):
    """A case stops waiting to be heard (Case.awaits_hearing) when an agenda item of it is recorded heard,
    and waits again when that is undone (a hearing recorded deferred after all): however the item came to
    be heard, through the hearing page or otherwise.

    The flag is written by an UPDATE of its own, not as a change to the case: the case's version (its
    optimistic lock) stays as it was, so a manager editing the case while the meeting hears it is not
    told someone else changed it, and a hearing never fails on a case edited meanwhile."""
    for item in [*session.new, *session.dirty]:
        if not isinstance(item, AgendaItem):
            continue
        heard = item.status == ItemStatus.HEARD
        if item in session.new:
            was = False
        else:
            history = get_history(item, "status")  # the old value is known: active_history
            if not history.has_changes():
                continue
            was = ItemStatus.HEARD in (history.deleted or ())
        if heard == was:
            continue
        case = item.__dict__.get("case") or _case_in(session, item.case_id)
        if case is not None and case in session.new:
            case.awaits_hearing = not heard  # inserted in this flush: with the flag
            continue
        if item.case_id is None:
            continue
        session.execute(update(Case.__table__).where(Case.__table__.c.id == item.case_id)
                        .values(awaits_hearing=not heard))
        if case is not None:
            set_committed_value(case, "awaits_hearing", not heard)


def _case_in(session, case_id):
    """The session's case of that id, loaded or still to be inserted (None if it has neither)."""
    if case_id is None:
        return None
    loaded = session.identity_map.get(identity_key(Case, case_id))
    return loaded or next((o for o in session.new if isinstance(o, Case) and o.id == case_id), None)


class Attendance(UUIDPrimaryKey, db.Model):
    """The register: one row per member agency of the panel at a meeting."""

    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("meeting_id", "agency_id"),)

    meeting_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("meetings.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    is_core: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    meeting = relationship("Meeting", back_populates="attendances")
    agency = relationship("Agency", lazy="joined")

    def can_view(self, user):
        """A line of the register (Meeting.can_view_register)."""
        return self.meeting.can_view_register(user)


class Attendee(UUIDPrimaryKey, Timestamps, db.Model):
    """A person at the meeting (for an agency, or an observer) and their confidentiality agreement."""

    __tablename__ = "attendees"

    meeting_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("meetings.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    agency_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("agencies.id"))
    name = Encrypted(str, nullable=False)
    role = Encrypted(str)  # free text that can identify ("DS, Harbour Road CID"): encrypted like the name
    is_observer: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    confidentiality_agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting = relationship("Meeting", back_populates="attendees")
    agency = relationship("Agency", lazy="joined")

    def can_view(self, user):
        """Someone on the register (Meeting.can_view_register)."""
        return self.meeting.can_view_register(user)

    def can_update(self, user):
        """Record their confidentiality agreement: whoever runs the meeting."""
        return self.can_view(user) and self.meeting.can_run(user)


class ResearchReturn(UUIDPrimaryKey, Timestamps, db.Model):
    """An agency's research for one listed case. Visible to that agency only until marked shared (to
    the panel manager neither); what is held but not shared, and why, stays visible to that agency and
    the manager only."""

    __tablename__ = "research_returns"
    __table_args__ = (UniqueConstraint("agenda_item_id", "agency_id"),)

    agenda_item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agenda_items.id", ondelete="CASCADE"),
                                                      nullable=False, index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False, index=True)
    nothing_held: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    relevant = Encrypted(str)
    to_share = Encrypted(str)
    withheld = Encrypted(str)
    withheld_reason = Encrypted(str)
    lawful_basis: Mapped[str | None] = mapped_column(String(32))
    is_shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    item = relationship("AgendaItem", back_populates="returns")
    agency = relationship("Agency", lazy="joined")

    def is_ours(self, user):
        """Whether the return is the user's agency's."""
        return self.agency_id == user.agency_id

    def can_view(self, user):
        """Its agency's people who see the item; once shared, everyone who sees the item. Unshared,
        it is internal to the agency: the panel manager does not read it either."""
        return self.item.can_view(user) and (self.is_ours(user) or self.is_shared)

    def can_view_withheld(self, user):
        """What the agency holds but does not share, and why: its agency, and the panel manager once
        the return is shared."""
        return self.can_view(user) and (self.is_ours(user) or self.item.meeting.panel.is_manager(user))

    def can_update(self, user):
        """Its agency's researchers (AgendaItem.can_research)."""
        return self.can_view(user) and self.is_ours(user) and self.item.can_research(user)


class MinuteAmendment(UUIDPrimaryKey, db.Model):
    """A correction to finalised minutes: the earlier text and the reason stay, encrypted."""

    __tablename__ = "minute_amendments"

    agenda_item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agenda_items.id", ondelete="CASCADE"),
                                                      nullable=False, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    previous_minute = Encrypted(str)
    reason = Encrypted(str)

    item = relationship("AgendaItem", back_populates="amendments")
    user = relationship("User")

    def can_view(self, user):
        """The earlier text and the reason: the manager who amends the minutes."""
        return self.item.can_manage(user)
