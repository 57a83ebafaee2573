"""SubjectRequest (a subject access request in the log), SubjectCase (a case the handler confirmed is
about the subject), SubjectResponse (one build of the response: a redacted PDF and JSON, encrypted)
and Rectification (a correction of the subject's details across their cases).

Who handles requests: the Data Protection Officer (`User.is_dpo`, across every panel), and a panel
manager for the cases of the panels they manage. Everything a handler sees through a request is
scoped by `may_reach(user, case)`; a response is seen only by someone who may reach every case in it.
"""
import calendar
import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, Uuid, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.cases.models import Case, CaseStatus
from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.core.workdays import is_working_day
from marac.extensions import db
from marac.panels.models import PanelRole, Role

# A request may be extended by up to two further months (UK GDPR Art. 12(3)).
MAX_EXTENSION_MONTHS = 2


class Requester(Labelled):
    """Who made the request."""

    SUBJECT = "subject", "The person themselves"
    ON_BEHALF = "on_behalf", "Someone on their behalf"


class RequestStatus(Labelled):
    """Where a subject access request stands."""

    RECEIVED = "received", "Received"
    IN_PROGRESS = "in_progress", "In progress"
    FULFILLED = "fulfilled", "Fulfilled"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"


# The statuses of a request still to be answered: the deadline runs, and it can be overdue.
OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS)


class ResponseStatus(Labelled):
    """Where a build of a response is."""

    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Building"
    DONE = "done", "Built"
    FAILED = "failed", "Failed"


class Redaction(Labelled):
    """Why something was left out of a response: whose data it is. The label is what the marker says."""

    PERPETRATOR = "perpetrator", "perpetrator"
    RESPONDENT = "respondent", "respondent"
    FAMILY = "family_member", "family member"
    OTHER_PERSON = "other_person", "other person named"
    LOCATION = "location", "location linked to others"
    STAFF = "agency_staff", "agency staff"

    @property
    def marker(self):
        """What stands in the response where the redacted text was."""
        return f"[redacted: third party — {self.label}]"


def add_calendar_months(day, months):
    """The same day `months` calendar months later, or that month's last day when it has no such day
    (31 January + 1 month = 28 or 29 February), as the ICO counts a month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def response_deadline(received_on, extension_months=0):
    """The day a response is due: one calendar month from receipt (plus any extension), moved to the
    next working day when it falls on a weekend or a bank holiday (the ICO's rule)."""
    due = add_calendar_months(received_on, 1 + (extension_months or 0))
    while not is_working_day(due):
        due += dt.timedelta(days=1)
    return due


def is_dpo(user):
    """Whether the user is the Data Protection Officer (an account-level role, across all panels)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_dpo)


def managed_panel_ids(user):
    """The ids of the panels the user manages."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(db.session.execute(select(PanelRole.panel_id).where(
        PanelRole.user_id == user.id, PanelRole.role == Role.MANAGER)).scalars())


def can_handle_requests(user):
    """The DPO, and panel managers (for the cases of their panels)."""
    return is_dpo(user) or bool(managed_panel_ids(user))


def may_reach(user, case):
    """Whether a request's handler may reach this case: the DPO any case that has been sent to a
    panel; a manager the cases of the panels they manage (as Case.can_view_record lets them)."""
    if is_dpo(user):
        return case.status != CaseStatus.DRAFT
    return case.panel.is_manager(user) and case.can_view_record(user)


class SubjectRequest(UUIDPrimaryKey, Timestamps, db.Model):
    """A subject access request: when it came, who asked, the subject's name and date of birth as given
    (encrypted), the deadline and where it stands."""

    __tablename__ = "subject_requests"

    reference: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    requester: Mapped[str] = mapped_column(String(16), nullable=False)
    identity_checked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    subject_name = Encrypted(str)
    subject_date_of_birth = Encrypted(dt.date)
    notes = Encrypted(str)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=RequestStatus.RECEIVED, index=True)
    status_reason = Encrypted(str)  # why it was refused (or withdrawn): may quote the requester
    extension_months: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    extension_reason = Encrypted(str)
    # Worked out from received_on and extension_months (response_deadline), kept for the log's order.
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    created_by = relationship("User")
    cases = relationship("SubjectCase", back_populates="request", cascade="all, delete-orphan",
                         order_by="SubjectCase.created_at")
    responses = relationship("SubjectResponse", back_populates="request", cascade="all, delete-orphan",
                             order_by="SubjectResponse.created_at.desc()")
    rectifications = relationship("Rectification", back_populates="request", cascade="all, delete-orphan",
                                  order_by="Rectification.at.desc()")

    @property
    def status_label(self):
        """The status in words."""
        return RequestStatus.label_of(self.status)

    @property
    def requester_label(self):
        """Who asked, in words."""
        return Requester.label_of(self.requester)

    @property
    def is_open(self):
        """Whether the request still awaits its answer."""
        return self.status in OPEN_STATUSES

    def is_overdue(self, today):
        """Open past its deadline."""
        return self.is_open and self.due_on < today

    def can_view(self, user):
        """The DPO; the manager who recorded it while they manage a panel; a manager of the panel of
        any case confirmed for it (who sees only those of their panels)."""
        if is_dpo(user):
            return True
        managed = managed_panel_ids(user)
        if not managed:
            return False
        return self.created_by_id == user.id or any(link.case.panel_id in managed for link in self.cases)

    def can_update(self, user):
        """Whoever handles it may record its progress."""
        return self.can_view(user)


class SubjectCase(UUIDPrimaryKey, Timestamps, db.Model):
    """A case the handler confirmed holds the subject, with the part they play in it (the party's role
    and position when confirmed: the case's people are rebuilt at every edit, so no person id is kept)."""

    __tablename__ = "subject_cases"
    __table_args__ = (UniqueConstraint("request_id", "case_id"),)

    request_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("subject_requests.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    role: Mapped[str] = mapped_column(String(24), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    confirmed_by_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)

    request = relationship("SubjectRequest", back_populates="cases")
    case = relationship("Case")

    def can_view(self, user):
        """Those who see the request and may reach the case."""
        return self.request.can_view(user) and may_reach(user, self.case)


class SubjectResponse(UUIDPrimaryKey, Timestamps, db.Model):
    """One build of the response: the PDF and the JSON, encrypted at rest, their SHA-256, and the cases
    it covers (a response is seen only by someone who may reach all of them)."""

    __tablename__ = "subject_responses"

    request_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("subject_requests.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ResponseStatus.QUEUED)
    case_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pdf = Encrypted(bytes, deferred=True)
    json_document = Encrypted(bytes, deferred=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    json_sha256: Mapped[str | None] = mapped_column(String(64))
    pages: Mapped[int | None] = mapped_column(Integer)
    redactions: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(64))  # the exception's class, never its message

    request = relationship("SubjectRequest", back_populates="responses")
    requested_by = relationship("User")

    @property
    def status_label(self):
        """The status in words."""
        return ResponseStatus.label_of(self.status)

    @property
    def is_finished(self):
        """Whether the build has stopped, built or failed."""
        return self.status in (ResponseStatus.DONE, ResponseStatus.FAILED)

    def covered_cases(self):
        """The cases the response covers."""
        ids = [uuid.UUID(value) for value in self.case_ids or []]
        return [case for case in (db.session.get(Case, case_id) for case_id in ids) if case is not None]

    def can_view(self, user):
        """Those who see the request and may reach every case the response covers."""
        return self.request.can_view(user) and all(may_reach(user, case) for case in self.covered_cases())


class Rectification(UUIDPrimaryKey, db.Model):
    """A correction of the subject's details across their cases: who, when, why (encrypted), which
    fields and how many cases. The old values are kept encrypted in each case's history."""

    __tablename__ = "subject_rectifications"

    request_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("subject_requests.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason = Encrypted(str)
    fields: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    case_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    request = relationship("SubjectRequest", back_populates="rectifications")
    user = relationship("User")

    def can_view(self, user):
        """A correction is seen with its request."""
        return self.request.can_view(user)
