"""Review (a MACE case's periodic risk review) and ConcernLink (a manager's link or unlink of a case to
a person or location of concern in the panel's registers)."""
import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.cases.models import risk_label
from marac.core.blind_index import BlindIndex
from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.extensions import db
from marac.sharing.models import WITHHELD, Category

DEFAULT_REVIEW_WEEKS = 12
# A young person may stay in the panel's scope up to this age (a young adult, after 18).
SCOPE_AGE_LIMIT = 25


class DisruptionTactic(Labelled):
    """The tactics of a disruption plan (recorded at a review; the registers show those used)."""

    CAWN = "cawn", "Child Abduction Warning Notice"
    TRESPASS = "trespass", "Trespass notice"
    LICENSING = "licensing", "Licensing action against premises"
    POLICE_DISRUPTION = "police_disruption", "Police disruption"
    SAFETY_PLANNING = "safety_planning", "Safety planning"
    RETURN_HOME_INTERVIEW = "return_home_interview", "Return-home interview"
    NRM = "nrm", "Referral to the National Referral Mechanism"


class ConcernKind(Labelled):
    """The two registers of a MACE panel (the value is the register's name in its address)."""

    PERSON = "persons", "Persons of concern"
    LOCATION = "locations", "Locations of concern"


class LinkAction(Labelled):
    """What a change to a register entry's cases did."""

    LINKED = "linked", "Linked"
    UNLINKED = "unlinked", "Unlinked"


class ReviewState(Labelled):
    """Where a child's review clock stands on a day (the list of reviews shows due and overdue ones)."""

    OVERDUE = "overdue", "Overdue"
    DUE = "due", "Due soon"
    ON_TRACK = "on_track", "Not yet due"


# A review's plain values, with the category each is: shown (Review.derived) only to a viewer who may see it.
REVIEW_DERIVED_FROM = {
    "risk_level": Category.RISK_CHECKLIST,
    "tactics": Category.CRIMINAL_JUSTICE,
}


class Review(UUIDPrimaryKey, Timestamps, db.Model):
    """A MACE case's risk review: the risk now (plain, for the statistics beside the risk at referral,
    Case.risk_level), what changed and the disruption plan (encrypted), its tactics (coded), and whether
    the young person stays in the panel's scope."""

    __tablename__ = "mace_reviews"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    reviewed_on: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    risk_level: Mapped[str] = mapped_column(String(16), nullable=False)
    tactics: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    stays_in_scope: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    what_changed = Encrypted(str)
    disruption_plan = Encrypted(str)

    case = relationship("Case")
    recorded_by = relationship("User")

    def can_view(self, user):
        """A review is part of the panel's record of its case (Case.can_view_record)."""
        return self.case.can_view_record(user)

    def derived(self, name, categories):
        """A plain value of the review (REVIEW_DERIVED_FROM) for a viewer who may see `categories`:
        the value, or WITHHELD."""
        if REVIEW_DERIVED_FROM[name] not in categories:
            return WITHHELD
        return getattr(self, name)

    def risk_label(self, categories):
        """The risk level now, in the words of the panel's scale (cases.models.risk_label), or WITHHELD."""
        level = self.derived("risk_level", categories)
        return level if level is WITHHELD else risk_label(self.case.panel.kind, level)


class ConcernLink(UUIDPrimaryKey, db.Model):
    """A change to the cases of a register entry: a case linked to a person or location of concern
    that its referral does not name, or a case unlinked from one (its referral's naming set aside),
    with the reason (encrypted). The entry is found by blind index, as the referral's rows are: the
    matching key is kept encrypted here so that `flask keys reindex` recomputes the index."""

    __tablename__ = "mace_concern_links"

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    reason = Encrypted(str)
    # The matching key of the entry: a person's name and date of birth, or a location's address and postcode.
    name = Encrypted(str)
    date_of_birth = Encrypted(dt.date)
    address = Encrypted(str)
    postcode = Encrypted(str)
    name_dob_index = BlindIndex("person_name_dob", lambda link: (link.name, link.date_of_birth))
    address_index = BlindIndex("location_address", lambda link: (link.address, link.postcode))

    case = relationship("Case")
    user = relationship("User")

    @property
    def match_index(self):
        """The blind index the link is about (its register's)."""
        return self.name_dob_index if self.kind == ConcernKind.PERSON else self.address_index

    def can_view(self, user):
        """A link is part of the panel's record of its case (Case.can_view_record)."""
        return self.case.can_view_record(user)
