"""Intervention (a step of a respondent's interventions ladder), CaseReviewApplication (an ASB Case
Review, the Community Trigger) with its Recommendation rows, and CaseReviewSettings (a panel's threshold
and deadlines)."""
import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.cases.models import CaseStatus, PartyRole
from marac.core.blind_index import BlindIndex
from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.core.workdays import add_working_days
from marac.extensions import db
from marac.panels.models import PanelKind, Role
from marac.sharing.models import Category
from marac.sharing.services import panel_categories, visible_categories

# The category of everything on the ladder: orders, notices and their breaches are criminal justice.
LADDER_CATEGORY = Category.CRIMINAL_JUSTICE
CLOSURE_ORDER_MONTHS = 3  # a closure order lasts at most three months from the day it is made


class Rung(Labelled):
    """The interventions against anti-social behaviour, in the order they escalate (the ladder)."""

    WARNING_LETTER = "warning_letter", "Warning letter"
    ABA = "aba", "Acceptable behaviour agreement"
    CPW = "cpw", "Community Protection Warning"
    CPN = "cpn", "Community Protection Notice"
    CPN_FIXED_PENALTY = "cpn_fixed_penalty", "Breach of a Community Protection Notice: fixed penalty notice"
    CPN_PROSECUTION = "cpn_prosecution", "Breach of a Community Protection Notice: prosecution"
    INJUNCTION = "injunction", "Civil injunction"
    CLOSURE_ORDER = "closure_order", "Closure order"
    CBO = "cbo", "Criminal behaviour order"
    POSSESSION = "possession", "Possession proceedings"

    @property
    def rank(self):
        """The rung's place on the ladder, from 0 (a warning letter)."""
        return list(Rung).index(self)


class InterventionOutcome(Labelled):
    """Where an intervention stands."""

    PENDING = "pending", "Pending (applied for, or awaiting a response)"
    IN_FORCE = "in_force", "Issued, agreed or granted"
    COMPLIED = "complied", "Complied with"
    BREACHED = "breached", "Breached"
    REFUSED = "refused", "Refused or not granted"
    WITHDRAWN = "withdrawn", "Withdrawn"


def add_months(day, months):
    """The same day `months` calendar months later, or the month's last day when it has no such day
    (30 November + 3 months is 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def closure_order_latest_end(made_on):
    """The last day a closure order made on `made_on` may run to: three months to the day."""
    return add_months(made_on, CLOSURE_ORDER_MONTHS)


def can_record_intervention(case, user):
    """Who records a step of an ASB case's ladder: of those who see the case's record and its criminal
    justice information, the panel manager, and representatives of member agencies (those who work the
    case), while the case is accepted."""
    if case.panel.kind != PanelKind.ASB or case.status != CaseStatus.ACCEPTED or not case.can_view_record(user):
        return False
    if LADDER_CATEGORY not in visible_categories(case, user):
        return False
    roles = case.panel.roles_of(user)
    return Role.MANAGER in roles or (Role.REPRESENTATIVE in roles and case.panel.is_member(user.agency_id))


def respondents_of(case):
    """The case's respondents, in the order of the referral (respondent 1, 2, ...)."""
    return [party for party in case.parties if party.role == PartyRole.RESPONDENT]


class Intervention(UUIDPrimaryKey, Timestamps, db.Model):
    """A step of the interventions ladder of one respondent of an ASB case: the rung (Rung), when, by
    which agency, its outcome (InterventionOutcome), the next review and, for an order, when it ends."""

    __tablename__ = "asb_interventions"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    # The respondent's place among the case's respondents (1 is the first): a case's people are
    # rebuilt from its referral at every edit, so a step cannot point at a row of them.
    respondent_number: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    rung: Mapped[str] = mapped_column(String(24), nullable=False)
    taken_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False, index=True)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    review_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    note = Encrypted(str)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    case = relationship("Case")
    agency = relationship("Agency", lazy="joined")
    recorded_by = relationship("User")

    @property
    def rung_label(self):
        """The rung in words."""
        return Rung.label_of(self.rung)

    @property
    def outcome_label(self):
        """The outcome in words."""
        return InterventionOutcome.label_of(self.outcome)

    @property
    def ladder_key(self):
        """The order of a ladder: by respondent, rung, then date."""
        rank = Rung(self.rung).rank if self.rung in Rung.values() else len(Rung)
        return (self.respondent_number, rank, self.taken_on, self.created_at or datetime.min)

    @property
    def respondent(self):
        """The respondent's party row (None when the referral no longer names that many)."""
        respondents = respondents_of(self.case)
        return respondents[self.respondent_number - 1] if 0 < self.respondent_number <= len(respondents) else None

    def can_view(self, user):
        """The ladder is criminal justice information of the case's record: whoever sees the record
        and, under the panel's sharing rules, that category."""
        return self.case.can_view_record(user) and LADDER_CATEGORY in visible_categories(self.case, user)

    def can_update(self, user):
        """Of those who may record steps on the case: the manager, and the people of the agency that
        took this step."""
        if not (self.can_view(user) and can_record_intervention(self.case, user)):
            return False
        return self.case.panel.is_manager(user) or user.agency_id == self.agency_id


# --- ASB Case Review (the Community Trigger, Anti-social Behaviour, Crime and Policing Act 2014 s104) --

DEFAULT_THRESHOLD = 3  # complaints in the window (the statutory guidance: no more than three in six months)
DEFAULT_HATE_THRESHOLD = 1  # one complaint, where the behaviour is a hate incident
DEFAULT_WINDOW_MONTHS = 6
DEFAULT_ACKNOWLEDGE_DAYS = 5  # working days from receipt
DEFAULT_DECISION_DAYS = 10  # working days from receipt
DEFAULT_REVIEW_DAYS = 20  # working days from the decision that the threshold is met


class CaseReviewSettings(UUIDPrimaryKey, db.Model):
    """A panel's Case Review threshold and deadlines (absent: the defaults above), set by its manager."""

    __tablename__ = "asb_review_settings"

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, unique=True)
    threshold: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_THRESHOLD)
    hate_threshold: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_HATE_THRESHOLD)
    window_months: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_WINDOW_MONTHS)
    acknowledge_days: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_ACKNOWLEDGE_DAYS)
    decision_days: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_DECISION_DAYS)
    review_days: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_REVIEW_DAYS)

    panel = relationship("Panel")

    @classmethod
    def defaults(cls, panel):
        """Unsaved settings with the defaults, for a panel that has none."""
        return cls(panel_id=panel.id, panel=panel, threshold=DEFAULT_THRESHOLD, hate_threshold=DEFAULT_HATE_THRESHOLD,
                   window_months=DEFAULT_WINDOW_MONTHS, acknowledge_days=DEFAULT_ACKNOWLEDGE_DAYS,
                   decision_days=DEFAULT_DECISION_DAYS, review_days=DEFAULT_REVIEW_DAYS)

    def can_view(self, user):
        """The panel manager reads and sets them."""
        return self.panel.can_view(user) and self.panel.is_manager(user)


class Decision(Labelled):
    """The decision on an application: whether the threshold for a review is met."""

    MET = "met", "Threshold met: a case review will be held"
    NOT_MET = "not_met", "Threshold not met"


class AppealOutcome(Labelled):
    """The outcome of an appeal against a decision or a review."""

    PENDING = "pending", "Awaiting a decision"
    UPHELD = "upheld", "Upheld"
    NOT_UPHELD = "not_upheld", "Not upheld"


class ReviewStage(Labelled):
    """Where an application stands (worked out from its dates)."""

    RECEIVED = "received", "Awaiting acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Awaiting a decision"
    AWAITING_REVIEW = "awaiting_review", "Threshold met: awaiting the review"
    NOT_MET = "not_met", "Threshold not met"
    REVIEWED = "reviewed", "Reviewed"
    APPEALED = "appealed", "Appeal in progress"


def can_apply(panel, user):
    """Who records an application: the ASB panel's manager, and representatives of its member agencies."""
    if panel.kind != PanelKind.ASB or not panel.can_view(user):
        return False
    roles = panel.roles_of(user)
    return Role.MANAGER in roles or (Role.REPRESENTATIVE in roles and panel.is_member(user.agency_id))


def can_list_reviews(panel, user):
    """The applications and their pages: whoever sees the ASB panel's cases (manager, chair, and
    representatives of member agencies)."""
    return panel.kind == PanelKind.ASB and panel.can_list_cases(user)


class CaseReviewApplication(UUIDPrimaryKey, Timestamps, db.Model):
    """An application for an ASB Case Review, for a complainant: who (encrypted, with the name + date of
    birth blind index that finds their complaints), when it came, the complaints counted, the
    acknowledgement, the decision, the review and an appeal."""

    __tablename__ = "asb_case_reviews"

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, index=True)
    reference: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    recorded_agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False)
    complainant_name = Encrypted(str)
    complainant_dob = Encrypted(dt.date)
    complainant_contact = Encrypted(str)
    applicant = Encrypted(str)  # someone applying on the complainant's behalf, with their consent
    summary = Encrypted(str)
    name_dob_index = BlindIndex("person_name_dob", lambda a: (a.complainant_name, a.complainant_dob))
    is_hate: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Complaints the complainant made to other relevant bodies (police, a housing provider) that the
    # panel has confirmed; added to those found on the system.
    other_complaints: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    complaints_found: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    threshold: Mapped[int] = mapped_column(Integer, nullable=False)  # the one that applied, when received
    window_months: Mapped[int] = mapped_column(Integer, nullable=False)
    acknowledge_by: Mapped[dt.date] = mapped_column(Date, nullable=False)
    decide_by: Mapped[dt.date] = mapped_column(Date, nullable=False)
    acknowledged_on: Mapped[dt.date | None] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    decision_reason = Encrypted(str)
    review_by: Mapped[dt.date | None] = mapped_column(Date)
    review_held_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    review_notes = Encrypted(str)
    appeal_received_on: Mapped[dt.date | None] = mapped_column(Date)
    appeal_outcome: Mapped[str | None] = mapped_column(String(16))
    appeal_decided_on: Mapped[dt.date | None] = mapped_column(Date)
    appeal_notes = Encrypted(str)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    panel = relationship("Panel")
    recorded_by = relationship("User")
    recorded_agency = relationship("Agency")
    recommendations = relationship("Recommendation", back_populates="application", cascade="all, delete-orphan",
                                   order_by="Recommendation.created_at")

    @property
    def complaints_counted(self):
        """The complaints counted against the threshold: found on the system and confirmed elsewhere."""
        return self.complaints_found + self.other_complaints

    @property
    def meets_threshold(self):
        """Whether the complaints counted reach the threshold that applied."""
        return self.complaints_counted >= self.threshold

    @property
    def stage(self):
        """Where the application stands (ReviewStage)."""
        if self.appeal_received_on and self.appeal_outcome in (None, AppealOutcome.PENDING):
            return ReviewStage.APPEALED
        if self.review_held_on:
            return ReviewStage.REVIEWED
        if self.decision == Decision.NOT_MET:
            return ReviewStage.NOT_MET
        if self.decision == Decision.MET:
            return ReviewStage.AWAITING_REVIEW
        return ReviewStage.ACKNOWLEDGED if self.acknowledged_on else ReviewStage.RECEIVED

    def overdue(self, today):
        """The deadlines missed, as (what, due) pairs: a step not taken by its day (today counts as in
        time), or taken after it."""
        late = []
        for what, due, done in (("Acknowledgement", self.acknowledge_by, self.acknowledged_on),
                                ("Decision", self.decide_by, self.decided_on),
                                ("Review", self.review_by, self.review_held_on)):
            if due and (done or today) > due:
                late.append((what, due))
        return late

    def can_view(self, user):
        """Whoever sees the panel's cases (can_list_reviews)."""
        return can_list_reviews(self.panel, user)

    def can_update(self, user):
        """Acknowledging, deciding, reviewing and appeals are the panel manager's."""
        return self.can_view(user) and self.panel.is_manager(user)

    def shows(self, user):
        """The categories of the complainant's details the user may see, by their role on the panel
        (identity for the name and date of birth, contact for how to reach them)."""
        return panel_categories(self.panel, user)


def deadline(start, days):
    """`days` working days after `start` (bank holidays of England and Wales do not count)."""
    return add_working_days(start, days)


class Recommendation(UUIDPrimaryKey, Timestamps, db.Model):
    """A recommendation of a case review, owned by an agency."""

    __tablename__ = "asb_review_recommendations"

    application_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("asb_case_reviews.id", ondelete="CASCADE"), nullable=False, index=True)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False)
    text = Encrypted(str)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    application = relationship("CaseReviewApplication", back_populates="recommendations")
    owner_agency = relationship("Agency", lazy="joined")

    def can_view(self, user):
        """Seen with its application."""
        return self.application.can_view(user)
