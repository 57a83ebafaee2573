"""Panel, PanelMember (an agency sitting on a panel) and PanelRole (a user's role on a panel)."""
import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, Text, Time, UniqueConstraint, Uuid, event
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from marac.core.db import Timestamps, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.extensions import db


# Panel.roles_of keeps its answers on the panel (not a mapped attribute), read from its roles while no
# role has changed since: _ROLE_CHANGES counts the changes (the events at the end of this module).
_ROLES_KEPT = "_roles_kept"
_ROLE_CHANGES = [0]


class PanelKind(Labelled):
    """The kinds of panel."""

    MARAC = "MARAC", "MARAC"
    MACE = "MACE", "MACE"
    ASB = "ASB", "ASB taskforce"


class Cadence(Labelled):
    """How often a panel meets."""

    WEEKLY = "weekly", "Weekly"
    FORTNIGHTLY = "fortnightly", "Fortnightly"
    MONTHLY = "monthly", "Monthly"


class Role(Labelled):
    """The roles a user can hold on a panel."""

    MANAGER = "manager", "Panel manager"
    CHAIR = "chair", "Chair"
    REPRESENTATIVE = "representative", "Agency representative"
    STEERING = "steering", "Steering group member"


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
DEFAULT_CONFIDENTIALITY = (
    "Everything shared at this meeting is confidential. It is shared only to reduce the risk of harm to the "
    "people discussed, under the panel's information-sharing protocol. Do not pass it on except within your "
    "agency for that purpose, keep any notes secure, and do not contact the people discussed about what was "
    "shared without agreeing it with the panel.")
DEFAULT_ATTENDANCE_THRESHOLD = 80
DEFAULT_LAWFUL_BASIS = ("UK GDPR Art. 6(1)(e) public task; Art. 9(2)(g) and DPA 2018 Sch. 1 para. 18 "
                        "safeguarding; Art. 10 and DPA 2018 Sch. 1; Crime and Disorder Act 1998 s.115")


class Panel(UUIDPrimaryKey, Timestamps, db.Model):
    """A MARAC, MACE or ASB taskforce: its settings, member agencies and the roles people hold on it."""

    __tablename__ = "panels"

    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    area: Mapped[str] = mapped_column(String(120), nullable=False)
    cadence: Mapped[str] = mapped_column(String(16), nullable=False)
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)
    agenda_lead_days: Mapped[int] = mapped_column(Integer, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # The lawful basis recorded with every disclosure of this panel's case information.
    lawful_basis: Mapped[str] = mapped_column(String(300), nullable=False, default=DEFAULT_LAWFUL_BASIS)
    meeting_time: Mapped[dt.time] = mapped_column(Time, nullable=False, default=dt.time(10, 0))
    minutes_days: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    action_due_days: Mapped[int] = mapped_column(Integer, nullable=False, default=28)
    confidentiality_statement: Mapped[str] = mapped_column(Text, nullable=False, default=DEFAULT_CONFIDENTIALITY)
    # Days a built meeting pack is kept (encrypted) before it is deleted.
    pack_retention_days: Mapped[int] = mapped_column(Integer, nullable=False, default=28)
    # Statistics settings, set by the panel manager: the local population of women aged 16 and over
    # (cases per 10,000), the attendance rate below which an agency is flagged (per cent), and the
    # shares of the local population aged 16 and over in each diversity group (per cent, one decimal).
    women_16_plus: Mapped[int | None] = mapped_column(Integer)
    attendance_threshold: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_ATTENDANCE_THRESHOLD)
    local_minoritised_share: Mapped[float | None] = mapped_column(Numeric(4, 1, asdecimal=False))
    local_lgbt_share: Mapped[float | None] = mapped_column(Numeric(4, 1, asdecimal=False))
    local_disabled_share: Mapped[float | None] = mapped_column(Numeric(4, 1, asdecimal=False))
    local_male_share: Mapped[float | None] = mapped_column(Numeric(4, 1, asdecimal=False))
    local_aged_16_17_share: Mapped[float | None] = mapped_column(Numeric(4, 1, asdecimal=False))
    # MACE: weeks between a child's risk reviews (from acceptance, then from the last review), set by the manager.
    review_interval_weeks: Mapped[int] = mapped_column(Integer, nullable=False, default=12)

    members = relationship("PanelMember", back_populates="panel", cascade="all, delete-orphan")
    roles = relationship("PanelRole", back_populates="panel", cascade="all, delete-orphan")

    @property
    def kind_label(self):
        """The kind of panel in words."""
        return PanelKind.label_of(self.kind)

    @property
    def cadence_label(self):
        """How often the panel meets, in words."""
        return Cadence.label_of(self.cadence)

    @property
    def weekday_label(self):
        """The day of the week the panel meets."""
        return WEEKDAYS[self.weekday]

    def roles_of(self, user):
        """The role names the user holds on this panel (a frozenset). Every check asks this (a list, for
        every row): the answers are kept on the panel until a role changes in this process
        (_ROLE_CHANGES) or the panel is expired or refreshed, as its loaded roles would be."""
        if user is None or not getattr(user, "is_authenticated", False):
            return frozenset()
        kept = self.__dict__.get(_ROLES_KEPT)
        if kept is None or kept[0] != _ROLE_CHANGES[0]:
            by_user = {}
            for role in self.roles:
                by_user.setdefault(role.user_id, set()).add(role.role)
            kept = (_ROLE_CHANGES[0], {user_id: frozenset(roles) for user_id, roles in by_user.items()})
            self.__dict__[_ROLES_KEPT] = kept
        return kept[1].get(user.id, frozenset())

    def can_view(self, user):
        """Who may know of the panel at all: administrators, anyone with a role on it, the people of
        its member agencies, and, while it is active, every practitioner of the area's agencies (any
        practitioner may refer to it: DOMAIN, "who refers"). Knowing of a panel shows nothing of it:
        everything else of the panel starts from this and asks for a role or membership as well."""
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        return user.is_admin or bool(self.roles_of(user)) or self.is_member(user.agency_id) or self.is_active

    def can_view_overview(self, user):
        """Anyone with a role on the panel sees its membership; administrators manage it."""
        return self.can_view(user) and (bool(self.roles_of(user)) or user.is_admin)

    def can_manage(self, user):
        """Administrators manage a panel's settings, members and roles."""
        return self.can_view(user) and user.is_admin

    def is_member(self, agency_id):
        """Whether the agency sits on this panel."""
        return any(m.agency_id == agency_id for m in self.members)

    def can_refer(self, user):
        """Any practitioner of any agency in the area may refer to an active panel, whether or not their
        agency sits on it (a GP or a housing officer refers to MARAC without being a member)."""
        return self.can_view(user) and self.is_active

    def can_list_cases(self, user):
        """Manager and chair; representatives while their agency sits on the panel. Not steering
        group members (statistics only) and not administrators without a role."""
        if not self.can_view(user):
            return False
        roles = self.roles_of(user)
        return bool(roles & {Role.MANAGER, Role.CHAIR}) or (Role.REPRESENTATIVE in roles and self.is_member(user.agency_id))

    def is_manager(self, user):
        """Whether the user is a manager of this panel."""
        return Role.MANAGER in self.roles_of(user)

    def can_view_statistics(self, user):
        """Steering group members, the manager and the chair see the panel's statistics (aggregates
        only); administrators without one of those roles do not."""
        return bool(self.roles_of(user) & {Role.STEERING, Role.MANAGER, Role.CHAIR})

    def can_edit_statistics_settings(self, user):
        """The panel manager sets the population and thresholds the statistics use."""
        return self.is_manager(user)


class PanelMember(UUIDPrimaryKey, Timestamps, db.Model):
    """An agency sitting on a panel, as a core member or when needed."""

    __tablename__ = "panel_members"
    __table_args__ = (UniqueConstraint("panel_id", "agency_id"),)

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False, index=True)
    is_core: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    panel = relationship("Panel", back_populates="members")
    agency = relationship("Agency", lazy="joined")

    def can_view(self, user):
        """The membership is shown where the panel's membership is (Panel.can_view_overview)."""
        return self.panel.can_view_overview(user)


class PanelRole(UUIDPrimaryKey, Timestamps, db.Model):
    """A role (Role) a user holds on a panel."""

    __tablename__ = "panel_roles"
    __table_args__ = (UniqueConstraint("panel_id", "user_id", "role"),)

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)

    panel = relationship("Panel", back_populates="roles")
    # The backref gives User.panel_roles without users (a lower layer) importing panels.
    user = relationship("User", lazy="joined", backref=backref("panel_roles", order_by="PanelRole.role"))

    @property
    def role_label(self):
        """The role in words."""
        return Role.label_of(self.role)

    def can_view(self, user):
        """The role is shown where the panel's membership is (Panel.can_view_overview)."""
        return self.panel.can_view_overview(user)

    @property
    def is_manager(self):
        """Whether this is a manager's role (users ask it through User.panel_roles)."""
        return self.role == Role.MANAGER


def _role_changed(*args, **kwargs):
    _ROLE_CHANGES[0] += 1


def _forget_roles(panel, *args):
    if panel is not None:  # None: expired as the session let it go
        panel.__dict__.pop(_ROLES_KEPT, None)


for _event in ("append", "remove", "bulk_replace"):
    event.listen(Panel.roles, _event, _role_changed)
for _attribute in (PanelRole.role, PanelRole.user_id, PanelRole.panel_id, PanelRole.panel):
    event.listen(_attribute, "set", _role_changed)
for _event in ("expire", "refresh", "refresh_flush"):
    event.listen(Panel, _event, _forget_roles)
