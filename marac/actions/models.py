"""Action and ActionUpdate."""
import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Uuid, and_, event, literal_column, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.extensions import db


class ActionStatus(Labelled):
    """Open, or how an action was closed; the closing ones are also the outcomes of a review at a
    hearing."""

    OPEN = "open", "Open"
    DONE = "done", "Done"
    NOT_POSSIBLE = "not_possible", "Not possible (circumstances changed)"
    NOT_DONE = "not_done", "Not done by the agency"
    # Closed when its case went to another area's MARAC (transfers), never chosen at a hearing.
    TRANSFERRED = "transferred", "Transferred with the case to another area"

    @classmethod
    def review_outcomes(cls):
        """The outcomes a hearing may give an earlier action: every status that closes it, but a transfer."""
        return [status for status in cls if status not in (cls.OPEN, cls.TRANSFERRED)]


# The action lists' filter for open actions past their due date (beside the statuses).
OVERDUE = "overdue"


class UpdateKind(Labelled):
    """What an entry in an action's history records."""

    CREATED = "created", "Agreed"
    PROGRESS = "progress", "Progress"
    COMPLETED = "completed", "Completed"
    CHASE = "chase", "Chased"
    REVIEW = "review", "Reviewed at meeting"
    TRANSFERRED = "transferred", "Closed as the case was transferred"


class ActionCorrection(Labelled):
    """Why an action agreed at a hearing is corrected or removed before the minutes are final (a code,
    so that the audit trail holds no free text)."""

    WORDING = "wording", "The action was written wrongly"
    OWNER = "owner", "Another agency owns it"
    DUE = "due", "The due date was wrong"
    NOT_AGREED = "not_agreed", "It was not agreed (added in error)"
    DUPLICATE = "duplicate", "It was added twice"

    @classmethod
    def corrections(cls):
        """The reasons to correct an action."""
        return [cls.WORDING, cls.OWNER, cls.DUE]

    @classmethod
    def removals(cls):
        """The reasons to remove an action."""
        return [cls.NOT_AGREED, cls.DUPLICATE]


class Rag(Labelled):
    """Red, amber, green: how an open action stands against its due date. The label is the tag's text."""

    RED = "red", "Overdue"
    AMBER = "amber", "Due soon"
    GREEN = "green", "On track"

    @property
    def colour(self):
        """The GOV.UK tag colour (amber shows as yellow)."""
        return "yellow" if self is Rag.AMBER else self.value


class Action(UUIDPrimaryKey, Timestamps, db.Model):
    """An action agreed at a hearing, owned by one agency, due by a date, reviewed at later hearings."""

    __tablename__ = "actions"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"), nullable=False, index=True)
    agenda_item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agenda_items.id"), nullable=False,
                                                      index=True)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False, index=True)
    # The panel of the action's case, copied when the action is added (_copy_panel), so that the manager's
    # list is read in order from one index of the panel's actions. Empty only in a database that the
    # migration adding it has not filled.
    panel_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    description = Encrypted(str)
    named_person = Encrypted(str)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ActionStatus.OPEN, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_chased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    case = relationship("Case")
    item = relationship("AgendaItem")
    owner_agency = relationship("Agency", lazy="joined")
    updates = relationship("ActionUpdate", back_populates="action", order_by="ActionUpdate.at",
                           cascade="all, delete-orphan")

    @property
    def status_label(self):
        """The status in words."""
        return ActionStatus.label_of(self.status)

    def can_view(self, user):
        """An action is part of the panel's record of its case: whoever sees that (Case.can_view_record)
        and the hearing it was agreed at (AgendaItem.can_view)."""
        return self.case.can_view_record(user) and self.item.can_view(user)

    def can_update(self, user):
        """Of those who see the action: the manager, and the owner agency's people on the panel (a
        steering-group member of the owner agency sees no case, so neither opens nor updates it)."""
        if not self.can_view(user):
            return False
        return self.case.panel.is_manager(user) or user.agency_id == self.owner_agency_id

    def can_correct(self, user):
        """Correct or remove it (until the minutes are final): whoever ran the hearing it was agreed at."""
        return self.can_view(user) and self.item.can_hear(user)

    def can_chase(self, user):
        """Chasing the owner agency is the panel manager's."""
        return self.can_view(user) and self.case.panel.is_manager(user)

    def rag(self, today):
        """Red: overdue; amber: due within 7 days; green: otherwise open; none once closed."""
        if self.status != ActionStatus.OPEN:
            return None
        if self.due_on < today:
            return Rag.RED
        return Rag.AMBER if (self.due_on - today).days <= 7 else Rag.GREEN



# The actions lists' order: open actions first (0), then the rest, each by due date (actions.services).
# Spelt with literals, not bound values, so that the index on it serves the lists on both databases.
OPEN_FIRST = sql_case((Action.status == literal_column(f"'{ActionStatus.OPEN.value}'"), literal_column("0")),
                      else_=literal_column("1"))
Index("ix_actions_list", Action.panel_id, OPEN_FIRST, Action.due_on, Action.id)


def is_open(due_before=None):
    """Open actions (due before the day `due_before`, when given), spelt as the lists' indexes are
    (OPEN_FIRST, then due_on), so that a count of a panel's or an agency's open actions reads one range
    of an index, not every open action of every panel. For counts: a list ordered by OPEN_FIRST filters
    on the plain status instead (with this equality SQLite sorts the range rather than read it in order)."""
    condition = OPEN_FIRST == literal_column("0")
    return condition if due_before is None else and_(condition, Action.due_on < due_before)


@event.listens_for(Action, "before_insert")
def _copy_panel(mapper, connection, action):
    """An action's panel is its case's."""
    if action.panel_id is None:
        from marac.cases.models import Case

        action.panel_id = connection.scalar(select(Case.panel_id).where(Case.id == action.case_id))
Index("ix_actions_list_owner", Action.owner_agency_id, OPEN_FIRST, Action.due_on, Action.id)

class ActionUpdate(UUIDPrimaryKey, db.Model):
    """One entry in an action's history: its kind, the status it left, and an encrypted note."""

    __tablename__ = "action_updates"

    action_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("actions.id", ondelete="CASCADE"), nullable=False,
                                                 index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    note = Encrypted(str)

    action = relationship("Action", back_populates="updates")
    user = relationship("User")

    def can_view(self, user):
        """An entry of the action's history is seen with the action."""
        return self.action.can_view(user)
