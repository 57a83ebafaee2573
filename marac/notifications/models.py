"""The kinds of email, the optional kinds a user has turned off, and the scheduled reminders sent."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from marac.core.db import UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.core.timeutil import utcnow
from marac.extensions import db


class EmailKind(Labelled):
    """What an email tells its reader. The labels are what the account page offers to turn off."""

    AGENDA_PUBLISHED = "agenda_published", "A meeting's agenda is published"
    RESEARCH_DUE = "research_due", "Your agency's research is due in two working days and is missing"
    ACTIONS_OVERDUE = "actions_overdue", "Weekly: your agency's actions that are overdue"
    PACK_READY = "pack_ready", "A meeting pack is ready"
    MINUTES_READY = "minutes_ready", "A meeting's minutes are final"
    ACTION_CHASED = "action_chased", "The panel manager chases one of your agency's actions"


# What a user may turn off. The agenda's publication and a manager's chase are always sent: the first
# is the panel's formal notice of a meeting (representatives must research its cases), the second
# is a person asking the agency for something by name; turning either off would defeat its purpose.
# Reminders, the weekly digest and "ready" notices repeat what the home page shows.
OPTIONAL_KINDS = (EmailKind.RESEARCH_DUE, EmailKind.ACTIONS_OVERDUE, EmailKind.PACK_READY,
                  EmailKind.MINUTES_READY)


class EmailOptOut(UUIDPrimaryKey, db.Model):
    """An optional kind of email (OPTIONAL_KINDS) that a user has turned off."""

    __tablename__ = "email_opt_outs"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SentReminder(UUIDPrimaryKey, db.Model):
    """A scheduled reminder sent to one user: its kind, what it was about (a meeting or an agency)
    and its period (the meeting's date, or the ISO week of a digest). The unique key makes sending
    twice impossible, however often `flask reminders send` runs."""

    __tablename__ = "sent_reminders"
    __table_args__ = (UniqueConstraint("kind", "about_id", "period", "user_id"),)

    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    about_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    period: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False, index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
