"""CaseTransfer: a case sent to another area's MARAC (with its transfer packet, a PDF encrypted at rest)
or received from one."""
import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.extensions import db
from marac.sharing.models import Category


class TransferDirection(Labelled):
    """Whether the case went to another area or came from one."""

    OUT = "out", "Transferred to another area"
    IN = "in", "Received from another area"


class PacketStatus(Labelled):
    """Where the transfer packet of a case sent out is."""

    QUEUED = "queued", "Being prepared"
    BUILT = "built", "Ready"
    FAILED = "failed", "Could not be prepared"


class CaseTransfer(UUIDPrimaryKey, Timestamps, db.Model):
    """One MARAC-to-MARAC transfer of a case. The other area, its coordinator's contact details and its
    reference are free text, encrypted: the area a victim moved to says where they live now."""

    __tablename__ = "case_transfers"
    __table_args__ = (UniqueConstraint("case_id", "direction"),)

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    area = Encrypted(str)  # the receiving (out) or originating (in) MARAC
    contact = Encrypted(str)  # its coordinator: name, email, telephone
    their_reference = Encrypted(str)  # the other MARAC's reference for the case
    transferred_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    # The transfer packet (out): built by a background job, its PDF encrypted, its SHA-256 audited.
    packet_status: Mapped[str | None] = mapped_column(String(16))
    packet = Encrypted(bytes, deferred=True)
    packet_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    packet_pages: Mapped[int | None] = mapped_column(Integer)
    packet_built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    packet_error: Mapped[str | None] = mapped_column(String(64))  # a code (the exception's class), never content

    case = relationship("Case")
    recorded_by = relationship("User")

    @property
    def is_out(self):
        """Whether the case was sent to another area."""
        return self.direction == TransferDirection.OUT

    @property
    def direction_label(self):
        """The direction in words."""
        return TransferDirection.label_of(self.direction)

    @property
    def packet_ready(self):
        """Whether the packet has been built."""
        return self.packet_status == PacketStatus.BUILT

    def can_view(self, user):
        """The origin of a case received: whoever sees the panel's record of the case. Where a case went
        is where the victim lives now: the panel manager, who sent it, alone."""
        if not self.case.can_view_record(user):
            return False
        return not self.is_out or self.case.panel.is_manager(user)

    def can_prepare_packet(self, user):
        """Preparing the packet of a case sent out again: the manager who sends it."""
        return self.can_view(user) and self.is_out and self.case.panel.is_manager(user)

    def can_download(self, user):
        """The transfer packet: the manager who sends it, once built."""
        return self.can_prepare_packet(user) and self.packet_ready


# What a transfer's details are, for need-to-know: where a case came from is identity (with the case);
# where it went, contact.
DETAIL_CATEGORY = {TransferDirection.IN: Category.IDENTITY, TransferDirection.OUT: Category.CONTACT}
