"""RetentionSchedule: how long a panel keeps its cases (the administrator sets it; defaults by kind)."""
import uuid

from sqlalchemy import ForeignKey, Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.db import Timestamps, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.extensions import db
from marac.panels.models import PanelKind


class RetentionBasis(Labelled):
    """What a panel's retention period runs from."""

    LAST_ACTIVITY = "last_activity", "The last hearing or referral"
    CLOSURE = "closure", "Closure of the case (or its screening out)"


# The basis by kind of panel (fixed: it is what the information-sharing protocols say), and the
# defaults of what the administrator may change: years kept, and the age a young person must reach.
BASIS = {PanelKind.MARAC: RetentionBasis.LAST_ACTIVITY, PanelKind.MACE: RetentionBasis.CLOSURE,
         PanelKind.ASB: RetentionBasis.CLOSURE}
DEFAULT_YEARS = 6
DEFAULT_AGE_LIMIT = {PanelKind.MACE: 25}
MIN_YEARS, MAX_YEARS = 1, 75
MIN_AGE, MAX_AGE = 18, 30


class RetentionSchedule(UUIDPrimaryKey, Timestamps, db.Model):
    """A panel's retention schedule, once its administrator has set one (else the defaults apply):
    the years kept after the basis (BASIS), and for MACE the age the young person must reach too."""

    __tablename__ = "retention_schedules"

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, unique=True)
    years: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_YEARS)
    age_limit: Mapped[int | None] = mapped_column(Integer)

    panel = relationship("Panel")

    def can_view(self, user):
        """The administrators, who set it (they may see every panel's settings)."""
        return self.panel.can_view(user) and user.is_admin

    def can_update(self, user):
        """The administrators."""
        return self.can_view(user)
