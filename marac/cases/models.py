"""Case (a referral once made, a case once accepted), its parties, linked locations and its history."""
import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import (JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid, event, false,
                        func, literal_column)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.core.timeutil import as_utc, today
from marac.extensions import db
from marac.panels.models import PanelKind
from marac.sharing.models import WITHHELD, Category



class CaseStatus(Labelled):
    """Where a referral stands: a draft is the referrer's alone; from submitted on, the panel's."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Awaiting screening"
    ACCEPTED = "accepted", "Accepted"
    SCREENED_OUT = "screened_out", "Screened out"
    CLOSED = "closed", "Closed"
    # A tombstone (retention.services.delete_cases): reference, panel, dates and the coded values the
    # statistics count; nothing personal is left and nobody opens it.
    DELETED = "deleted", "Deleted under the retention schedule"
    # Sent to another area's MARAC (transfers): the panel's work on it has ended, its record stays.
    TRANSFERRED_OUT = "transferred_out", "Transferred to another area"


# Every status but draft and deleted: the cases the panel sees, lists, searches and checks for repeats.
VISIBLE_TO_PANEL = tuple(status for status in CaseStatus if status not in (CaseStatus.DRAFT, CaseStatus.DELETED))


class Criterion(Labelled):
    """Why a MARAC referral meets the threshold."""

    VISIBLE_HIGH_RISK = "visible_high_risk", "Visible high risk (14 or more ticks)"
    PROFESSIONAL_JUDGEMENT = "professional_judgement", "Professional judgement"
    POTENTIAL_ESCALATION = ("potential_escalation",
                            "Potential escalation (3 or more police-reported incidents in 12 months)")
    REPEAT = "repeat", "Repeat (a further incident within 12 months of the last referral)"


class RiskLevel(Labelled):
    """The risk level a referral (or a MACE review) is assessed at. Each kind of panel grades on its own
    scale (RISK_SCALES): a page, a filter or a figure names only the levels of its panel's scale."""

    STANDARD = "standard", "Standard"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class PartyRole(Labelled):
    """The part a person plays in a case."""

    VICTIM = "victim", "Victim"
    PERPETRATOR = "perpetrator", "Perpetrator"
    CHILD = "child", "Child in the household"
    YOUNG_PERSON = "young_person", "Child or young person"
    PERSON_OF_CONCERN = "person_of_concern", "Person of concern"
    COMPLAINANT = "complainant", "Complainant or victim"
    RESPONDENT = "respondent", "Respondent or perpetrator"


# The categories that a person's role adds to every detail of theirs, for need-to-know: whatever
# is recorded about a child (in the household, or the young person a MACE case is about) is also
# `children`. Declared once; search (and anything else that tells a viewer a person matched) asks
# for these besides the category of the detail matched (identity for a name, contact for a postcode).
ROLE_CATEGORIES = {role: frozenset({Category.CHILDREN} if role in (PartyRole.CHILD, PartyRole.YOUNG_PERSON) else ())
                   for role in PartyRole}


def roles_visible(detail, categories):
    """The party roles whose `detail` (a Category) a viewer who may see `categories` of a case may see."""
    return [role for role in PartyRole if {detail} | ROLE_CATEGORIES[role] <= set(categories)]


# The role of a case's subject (its main person) by the kind of panel.
SUBJECT_ROLE = {PanelKind.MARAC: PartyRole.VICTIM, PanelKind.MACE: PartyRole.YOUNG_PERSON,
                PanelKind.ASB: PartyRole.COMPLAINANT}


# The risk scale of each kind of panel, lowest first: MARAC and the ASB taskforce grade standard / medium /
# high (MARAC hears the high ones); MACE grades low / medium / high.
RISK_SCALES = {PanelKind.MARAC: (RiskLevel.STANDARD, RiskLevel.MEDIUM, RiskLevel.HIGH),
               PanelKind.MACE: (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH),
               PanelKind.ASB: (RiskLevel.STANDARD, RiskLevel.MEDIUM, RiskLevel.HIGH)}


def risk_levels(kind):
    """The levels of the panel kind's risk scale, lowest first (RISK_SCALES)."""
    return list(RISK_SCALES[kind])


def risk_label(kind, level):
    """A risk level as a panel of this kind names it; a code outside the kind's scale is a fault, not a
    label (so no page can show one panel's vocabulary on another's case)."""
    if level not in RISK_SCALES[kind]:
        raise ValueError(f"risk level {level!r} is not on the {kind} scale")
    return RiskLevel.label_of(level)


class ScreeningDecision(Labelled):
    """The panel manager's decision on a referral."""

    ACCEPT = "accept", "Accept the case for a meeting"
    SCREEN_OUT = "screen_out", "Screen it out"


class ChangeAction(Labelled):
    """What an entry of a case's history records."""

    DRAFT_SAVED = "draft_saved", "Draft saved"
    SUBMITTED = "submitted", "Submitted"
    EDITED = "edited", "Edited"
    ACCEPTED = "accepted", "Accepted"
    SCREENED_OUT = "screened_out", "Screened out"
    RECTIFIED = "rectified", "Details corrected"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"
    TRANSFERRED_IN = "transferred_in", "Received from another area"
    TRANSFERRED_OUT = "transferred_out", "Transferred to another area"


class ClosureOutcome(Labelled):
    """Why a case was closed (the manager chooses one; "other" needs the reason in words)."""

    RISK_REDUCED = "risk_reduced", "Risk reduced"
    ACTIONS_COMPLETE = "actions_complete", "Actions complete: no further role for the panel"
    MOVED_AREA = "moved_area", "Moved out of the area"
    AGED_OUT = "aged_out", "Turned 18 (or 25 for a young adult kept in scope)"
    OTHER = "other", "Other (give the reason)"


def closure_outcomes(kind):
    """The outcomes a panel of this kind closes a case with: turning 18 or 25 ends only a MACE case."""
    return [o for o in ClosureOutcome if o != ClosureOutcome.AGED_OUT or kind == PanelKind.MACE]


class CaseSort(Labelled):
    """The orders of the case list."""

    REFERRED_DESC = "referred_desc", "Newest referral first"
    REFERRED_ASC = "referred_asc", "Oldest referral first"
    REFERENCE = "reference", "Reference"
    RISK = "risk", "Highest risk score first"


# Values worked out from the answers and kept plain (columns, or keys of Case.codes), with the category
# each is derived from. A derived value is that category: Case.derived() shows it, and the case list
# sorts and filters on it, only for someone who may see the category.
DERIVED_FROM = {
    "criterion": Category.RISK_CHECKLIST,
    "risk_score": Category.RISK_CHECKLIST,
    "risk_level": Category.RISK_CHECKLIST,
    "response_days": Category.RISK_CHECKLIST,  # from the ASB vulnerability score
    "response_due_on": Category.RISK_CHECKLIST,  # the referral date plus the response time, in working days
    "response_missed": Category.RISK_CHECKLIST,  # not screened by that date (Case.response_missed)
    "police_incidents": Category.CRIMINAL_JUSTICE,
    "interventions": Category.CRIMINAL_JUSTICE,
    "children": Category.CHILDREN,
    "needs": Category.HEALTH,
    "exploitation_types": Category.NARRATIVE,
    "categories": Category.NARRATIVE,
    "complaints_6_months": Category.NARRATIVE,
}


# Where Case.subject keeps the subject read for a list (Case.keep_subject): not a mapped attribute.
_SUBJECT = "_listed_subject"

# The plain columns the case list filters on, carried by the list's indexes.
LIST_FILTERED = ("status", "referring_agency_id", "risk_level", "is_repeat")


class Case(UUIDPrimaryKey, Timestamps, db.Model):
    """A referral (a case once accepted): answers encrypted, coded values plain for lists and statistics."""

    __tablename__ = "cases"

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, index=True)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    # The reference's year and number (MARAC-2026-10042: 2026, 10042), set with it (_split_reference), so
    # that references sort as numbers: MARAC-2026-9999 before MARAC-2026-10000.
    reference_year: Mapped[int | None] = mapped_column(Integer)
    reference_number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=CaseStatus.DRAFT, index=True)
    referrer_user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False, index=True)
    referring_agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False,
                                                           index=True)
    referred_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    screened_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    screening_reason = Encrypted(str)
    criterion: Mapped[str | None] = mapped_column(String(32))
    risk_score: Mapped[int | None] = mapped_column(Integer)
    risk_level: Mapped[str | None] = mapped_column(String(16), index=True)
    police_incidents: Mapped[int | None] = mapped_column(Integer)
    is_repeat: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, index=True)
    repeat_of_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id"))
    # Received from another area's MARAC (transfers.models.CaseTransfer holds where from): accepted as
    # sent, and listed before every other case on the next agenda.
    is_transfer_in: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Whether the accepted case waits to be heard: set each time it becomes accepted (screening, a
    # transfer in, reopening: _accepted_awaits_hearing), cleared when a meeting hears it (and set again if
    # that hearing is recorded as deferred: meetings.models). The agenda builder's waiting list is the
    # panel's accepted cases with it set, less those listed at a meeting still to be held, read from an
    # index (ix_cases_waiting) however many cases the panel has heard.
    awaits_hearing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    # Coded answers used for statistics and filters (exploitation types, ASB categories, needs, ...).
    codes: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # Every other answer of the referral form, encrypted as one value: the panel's record, which the
    # manager may edit once it is submitted.
    referral = Encrypted(dict)
    # The referral as the referrer sent it (and as they edited it until screening): what a referrer
    # without a role on the panel sees of the case. Written at submission, never by anyone else.
    sent_referral = Encrypted(dict)
    # Closure (CaseStatus.CLOSED): when, the outcome (ClosureOutcome) and the manager's reason in words.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closure_outcome: Mapped[str | None] = mapped_column(String(32))
    closure_reason = Encrypted(str)
    # When the case was deleted under the retention schedule (CaseStatus.DELETED): a tombstone since.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    # The case list's orders (cases.services.SORTS), each ending with the id so that a page can start
    # after any row (core.pagination.keyset_page). The filters' columns follow (LIST_FILTERED), so that a
    # filter and the capped count are decided from the index alone, whatever the filter.
    __table_args__ = (
        Index("ix_cases_list_referred", "panel_id", "referred_on", "reference_year", "reference_number", "id",
              *LIST_FILTERED),
        Index("ix_cases_list_reference", "panel_id", "reference_year", "reference_number", "id", *LIST_FILTERED),
        # A case's status by its id, from the index alone: what a count over another table joined to its
        # cases (the home page's overdue actions by agency: thousands of them) reads of each case,
        # instead of the case's wide row.
        Index("ix_cases_status_by_id", "id", "status"),
        Index("ix_cases_waiting", "panel_id", "status", "awaits_hearing"),
    )

    panel = relationship("Panel")
    referrer = relationship("User", foreign_keys=[referrer_user_id])
    referring_agency = relationship("Agency")
    repeat_of = relationship("Case", remote_side="Case.id")
    parties = relationship("CaseParty", back_populates="case", cascade="all, delete-orphan",
                           order_by="CaseParty.position")
    locations = relationship("CaseLocation", back_populates="case", cascade="all, delete-orphan")
    holds = relationship("LegalHold", back_populates="case", order_by="LegalHold.placed_at.desc()")

    def is_referrer(self, user):
        """Whether the user made this referral."""
        return user is not None and self.referrer_user_id == getattr(user, "id", None)

    def can_view_record(self, user):
        """Whether the user sees the case as the panel holds it (edits, hearings, actions, research
        included), as far as the sharing rules let their role: once submitted, whoever may see the
        panel's cases. Making the referral grants none of it."""
        return self.status in VISIBLE_TO_PANEL and self.panel.can_list_cases(user)

    def can_view_sent(self, user):
        """Whether the user sees the referral as they sent it (Case.sent_referral; their draft before
        that): the referrer, while they may know of the panel."""
        return self.status != CaseStatus.DELETED and self.is_referrer(user) and self.panel.can_view(user)

    def can_view(self, user):
        """The case page: the referrer (their referral as sent), and whoever sees the panel's record."""
        return self.panel.can_view(user) and (self.can_view_sent(user) or self.can_view_record(user))

    def can_edit(self, user):
        """The referrer until screening; the panel manager once submitted."""
        if not self.can_view(user):
            return False
        if self.status in (CaseStatus.DRAFT, CaseStatus.SUBMITTED) and self.is_referrer(user):
            return True
        return self.status not in (CaseStatus.DRAFT, CaseStatus.TRANSFERRED_OUT) and self.panel.is_manager(user)

    def repeat_shown(self, user, shown=None):
        """The earlier case this one repeats, when the user may be told of it (they may see the
        earlier case), else None. Every page that shows the repeat flag, the earlier reference or
        anything else learnt from the earlier case asks this, never is_repeat or repeat_of: a
        referrer with no role on the panel must not learn that someone they named was referred before.
        A repeat is found by name and date of birth, so it is identity: withheld with it. A list passes
        `shown`, the categories of this case it declared shown to the user (sharing.services.disclose)."""
        from marac.sharing.services import visible_categories  # services of a lower layer, for one rule

        if not (self.is_repeat and self.repeat_of_id):
            return None
        categories = visible_categories(self, user) if shown is None else shown
        if Category.IDENTITY not in categories:
            return None
        earlier = self.repeat_of
        if earlier is None or not earlier.can_view(user):
            return None
        return earlier

    def edits_record(self, user):
        """Whether the user's edit form starts from the panel's record (the manager's) rather than
        from the referral as the user sent it (a referrer edits their own version until screening)."""
        return self.status == CaseStatus.DRAFT or self.panel.is_manager(user)

    def can_screen(self, user):
        """The panel manager, while the referral awaits screening."""
        return self.can_view(user) and self.status == CaseStatus.SUBMITTED and self.panel.is_manager(user)

    def can_transfer(self, user):
        """Sending an accepted MARAC case to another area's MARAC (transfers): the panel manager."""
        return (self.can_view_record(user) and self.status == CaseStatus.ACCEPTED
                and self.panel.kind == PanelKind.MARAC and self.panel.is_manager(user))

    def can_view_sharing_log(self, user):
        """What of the case was shown to whom: the panel manager."""
        return self.can_view_record(user) and self.panel.is_manager(user)

    def can_close(self, user):
        """Close an accepted case (with an outcome): the panel manager."""
        return self.can_view_record(user) and self.status == CaseStatus.ACCEPTED and self.panel.is_manager(user)

    def can_reopen(self, user):
        """Reopen a closed case (with a reason): the panel manager."""
        return self.can_view_record(user) and self.status == CaseStatus.CLOSED and self.panel.is_manager(user)

    def can_view_disclosures(self, user):
        """The disclosure report (who saw what of the case, and every event about it): the panel's
        manager, and a data protection officer (User.is_dpo, an account-level role across every
        panel). The report names categories, agencies, users and events, never the case's content."""
        if self.status == CaseStatus.DRAFT or user is None or not getattr(user, "is_authenticated", False):
            return False
        return user.is_dpo or self.can_view_sharing_log(user)
    def can_hold(self, user):
        """Place a legal hold on the case, or lift one (with a reason): the panel manager."""
        return self.can_view_record(user) and self.panel.is_manager(user)

    @property
    def active_hold(self):
        """The legal hold in force on the case (it is never deleted while one is), or None."""
        return next((hold for hold in self.holds if hold.lifted_at is None), None)

    def derived(self, name, categories):
        """A derived value (DERIVED_FROM: a column, else a key of codes) for a viewer who may see
        `categories`: the value, or WITHHELD when its category is not among them."""
        if DERIVED_FROM[name] not in categories:
            return WITHHELD
        if name in self.__mapper__.columns or isinstance(getattr(type(self), name, None), property):
            return getattr(self, name)
        return (self.codes or {}).get(name)

    @property
    def response_due_on(self):
        """ASB: the day the panel must respond by (the vulnerability assessment's response time in
        working days from the referral, kept in codes); the manager's screening is the response. A
        derived value: read it through Case.derived."""
        value = (self.codes or {}).get("response_due_on")
        return dt.date.fromisoformat(value) if value else None

    @property
    def response_missed(self):
        """Whether the ASB response time was missed: not screened by the end of its due day (today's
        date by the app's clock while it waits). A derived value: read it through Case.derived."""
        if self.response_due_on is None:
            return False
        responded = as_utc(self.screened_at).date() if self.screened_at else None
        return (responded or today()) > self.response_due_on

    def risk_label(self, categories):
        """The risk level at referral in the words of the panel's own scale (risk_label) for a viewer who
        may see `categories`: WITHHELD without the risk category, None when not assessed."""
        level = self.derived("risk_level", categories)
        if level is WITHHELD or level is None:
            return level
        return risk_label(self.panel.kind, level)

    @property
    def status_label(self):
        """The status as people read it."""
        return CaseStatus.label_of(self.status)

    @property
    def subject_role(self):
        """The role of the case's main person on this kind of panel (SUBJECT_ROLE)."""
        return SUBJECT_ROLE[self.panel.kind]

    @property
    def subject(self):
        """The main person of the case: the victim, the young person or the complainant (read by
        cases.services.with_subjects for a list, without the other parties)."""
        if _SUBJECT in self.__dict__:
            return self.__dict__[_SUBJECT]
        return next((p.person for p in self.parties if p.role == self.subject_role), None)

    def keep_subject(self, person):
        """Case.subject answers `person` from now on (cases.services.with_subjects, which read it)."""
        self.__dict__[_SUBJECT] = person


# Sort by risk: the score, a case without one last; spelt with a literal, not a bound value, so that the
# index on it (below) serves the list on both databases.
RISK_ORDER = func.coalesce(Case.risk_score, literal_column("-1"))
Index("ix_cases_list_risk", Case.panel_id, RISK_ORDER, Case.referred_on, Case.reference_year, Case.reference_number,
      Case.id, *[getattr(Case, name) for name in LIST_FILTERED])

# A referrer's own referrals ("Your referrals"): drafts first, then newest first. Spelt with literals, as
# RISK_ORDER is, so that the index below serves the list on both databases: a page reads its own rows of
# the thousands an IDVA refers over the years, and the count reads the index alone (status rides along).
DRAFTS_FIRST = sql_case((Case.status == literal_column(f"'{CaseStatus.DRAFT.value}'"), literal_column("0")),
                        else_=literal_column("1"))
Index("ix_cases_referrals_of", Case.referrer_user_id, DRAFTS_FIRST, Case.created_at.desc(), Case.id.desc(),
      Case.status)


def reference_parts(reference):
    """(year, number) of a reference such as MARAC-2026-0042, or (None, None) for another shape."""
    parts = (reference or "").rsplit("-", 2)
    if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts[1:]):
        return int(parts[1]), int(parts[2])
    return None, None


@event.listens_for(Case.reference, "set")
def _split_reference(case, value, old, initiator):
    """Keep the reference's year and number beside it, so that the list sorts references as numbers."""
    case.reference_year, case.reference_number = reference_parts(value)


@event.listens_for(Case.status, "set", active_history=True)
def _accepted_awaits_hearing(case, value, old, initiator):
    """A case that becomes accepted (screened in, received from another area, reopened) waits to be heard
    at a meeting, whether or not a meeting heard it before."""
    if value == CaseStatus.ACCEPTED and old != CaseStatus.ACCEPTED:
        case.awaits_hearing = True


class CaseParty(UUIDPrimaryKey, db.Model):
    """A person's part (PartyRole) in a case."""

    __tablename__ = "case_parties"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("people.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(24), nullable=False)
    relationship_to_subject: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    case = relationship("Case", back_populates="parties")
    person = relationship("Person", lazy="joined")

    def can_view(self, user):
        """The people of the panel's record (Case.can_view_record); the referrer sees whom they named
        in the referral as sent instead."""
        return self.case.can_view_record(user)


class CaseLocation(UUIDPrimaryKey, db.Model):
    """A location of the case (each case has its own Location rows, built from its own answers)."""

    __tablename__ = "case_locations"
    __table_args__ = (UniqueConstraint("case_id", "location_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("locations.id"), nullable=False, index=True)

    case = relationship("Case", back_populates="locations")
    location = relationship("Location", lazy="joined")

    def can_view(self, user):
        """The locations of the panel's record (Case.can_view_record), as for CaseParty."""
        return self.case.can_view_record(user)


class CaseChange(UUIDPrimaryKey, db.Model):
    """One entry of a case's history: who, when, what, which fields; old values stay encrypted."""

    __tablename__ = "case_changes"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str | None] = mapped_column(String(16))
    fields: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    old_values = Encrypted(dict)
    # The reason given for the step in words (why a case was reopened), when it asks for one.
    note = Encrypted(str)

    case = relationship("Case")
    user = relationship("User")

    def can_view(self, user):
        """The case's history: whoever sees the panel's record; the referrer sees their own entries."""
        if not self.case.can_view(user):
            return False
        return self.case.can_view_record(user) or self.user_id == user.id


class LegalHold(UUIDPrimaryKey, db.Model):
    """A legal hold on a case (proceedings, an inquiry, a complaint): while it is in force (not lifted)
    the case is never deleted, whatever its retention date. Both reasons are encrypted."""

    __tablename__ = "legal_holds"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    placed_by_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason = Encrypted(str)
    lifted_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lift_reason = Encrypted(str)

    case = relationship("Case", back_populates="holds")
    placed_by = relationship("User", foreign_keys=[placed_by_id])
    lifted_by = relationship("User", foreign_keys=[lifted_by_id])

    def can_view(self, user):
        """The panel's record viewers see that a hold is in force; its reasons are the manager's
        (can_update)."""
        return self.case.can_view_record(user)

    def can_update(self, user):
        """Lift the hold, read its reasons: the panel manager, while it is in force."""
        return self.case.can_hold(user) and self.lifted_at is None


class ReferenceCounter(db.Model):
    """The last case number used per panel kind and year (MARAC-2026-0042)."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
