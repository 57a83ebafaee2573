"""PackRender (one encrypted PDF per meeting, kind and redaction profile), PackBuild (the progress of
building a meeting's packs) and PackIssue (one stamped copy handed to one person of one agency)."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.extensions import db


class PackKind(Labelled):
    """The packs of a meeting: the agenda before it, the minutes and action plan after it."""

    AGENDA = "agenda", "Agenda pack"
    MINUTES = "minutes", "Minutes and action plan"


class BuildStatus(Labelled):
    """Where a build of a meeting's packs is."""

    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Building"
    DONE = "done", "Built"
    FAILED = "failed", "Failed"


# The profile code of the manager's and the chair's pack, which holds every category.
FULL_PROFILE = "full"


class PackBuild(UUIDPrimaryKey, Timestamps, db.Model):
    """One run of building every pack of a meeting's kind: what the build page shows."""

    __tablename__ = "pack_builds"

    meeting_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("meetings.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=BuildStatus.QUEUED)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    error: Mapped[str | None] = mapped_column(String(64))  # a code (the exception's class), never content

    meeting = relationship("Meeting")
    requested_by = relationship("User")
    renders = relationship("PackRender", back_populates="build", order_by="PackRender.profile")

    @property
    def is_finished(self):
        """Whether the build has stopped, built or failed."""
        return self.status in (BuildStatus.DONE, BuildStatus.FAILED)

    @property
    def percent(self):
        """How far the build is, 0 to 100."""
        return 100 if self.is_finished and self.status == BuildStatus.DONE else (
            int(100 * self.done / self.total) if self.total else 0)

    def can_view(self, user):
        """The panel manager follows the build."""
        return self.meeting.can_manage(user)


class PackRender(UUIDPrimaryKey, db.Model):
    """One rendered pack of a meeting for one redaction profile: the PDF encrypted at rest, deleted
    when it expires. The fingerprint names what it was built from, so staleness needs no decryption."""

    __tablename__ = "pack_renders"

    meeting_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("meetings.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    build_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("pack_builds.id", ondelete="SET NULL"),
                                                       index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # The category codes the pack shows, sorted and joined by ","; FULL_PROFILE for everything.
    profile: Mapped[str] = mapped_column(String(200), nullable=False)
    pdf = Encrypted(bytes, deferred=True)  # listing packs never loads the PDFs
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    pages: Mapped[int] = mapped_column(Integer, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    built_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting = relationship("Meeting")
    build = relationship("PackBuild", back_populates="renders")
    built_by = relationship("User")

    @property
    def is_full(self):
        """Whether this is the full pack of the manager and the chair."""
        return self.profile == FULL_PROFILE

    @property
    def is_available(self):
        """Whether the PDF is still held: neither superseded by a later build nor deleted."""
        return self.superseded_at is None and self.deleted_at is None

    @property
    def kind_label(self):
        """The kind of pack in words."""
        return PackKind.label_of(self.kind)

    def can_view(self, user):
        """The manager (who builds every profile's pack); else whoever sees the meeting and is entitled
        to this render's profile (packs.services.entitled_profile: full for the chair, their agency's
        for a representative of a member agency)."""
        from marac.packs.services import entitled_profile  # services build on these models

        if self.meeting.can_manage(user):
            return True
        return self.meeting.can_view(user) and entitled_profile(user, self.meeting) == self.profile


class PackIssue(UUIDPrimaryKey, db.Model):
    """One download: a copy of a render stamped for one person of one agency, traceable by its public
    code and by the SHA-256 of the stamped file."""

    __tablename__ = "pack_issues"

    code: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    render_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("pack_renders.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False, index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)

    render = relationship("PackRender")
    agency = relationship("Agency", lazy="joined")
    user = relationship("User", lazy="joined")

    def can_view(self, user):
        """A copy handed out: the manager's circulation record, and the person it was handed to while
        they may still have the render."""
        return self.render.can_view(user) and (self.render.meeting.can_manage(user) or self.user_id == user.id)
