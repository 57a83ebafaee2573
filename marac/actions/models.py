"""Action and ActionUpdate."""
import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.extensions import db

ACTION_STATUSES = {
    "open": "Open", "done": "Done", "not_possible": "Not possible (circumstances changed)",
    "not_done": "Not done by the agency",
}
UPDATE_KINDS = {"progress": "Progress", "completed": "Completed", "chase": "Chased", "review": "Reviewed at meeting",
                "created": "Agreed"}


class Action(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "actions"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"), nullable=False, index=True)
    agenda_item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agenda_items.id"), nullable=False,
                                                      index=True)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False, index=True)
    description = Encrypted(str)
    named_person: Mapped[str | None] = mapped_column(String(120))
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open", index=True)
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
        return ACTION_STATUSES[self.status]

    def can_update(self, user):
        """The owner agency's people on the panel, and the manager."""
        panel = self.case.panel
        roles = panel.roles_of(user)
        return "manager" in roles or (user.agency_id == self.owner_agency_id and bool(roles))

    def can_chase(self, user):
        return self.case.panel.is_manager(user)

    def rag(self, today):
        """Red: overdue; amber: due within 7 days; green: otherwise open; none once closed."""
        if self.status != "open":
            return None
        if self.due_on < today:
            return "red"
        return "amber" if (self.due_on - today).days <= 7 else "green"


class ActionUpdate(UUIDPrimaryKey, db.Model):
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
