"""Import every model module so that the metadata (and Alembic) sees all tables."""
from marac.agencies.models import Agency  # noqa: F401
from marac.audit.models import AuditChainHead, AuditEvent, AuditEventRef  # noqa: F401
from marac.core.forms import SpentFormToken  # noqa: F401
from marac.auth.models import UserSession  # noqa: F401
from marac.keys.models import DataKey  # noqa: F401
from marac.panels.models import Panel, PanelMember, PanelRole  # noqa: F401
from marac.users.models import ApprovalRequest, User  # noqa: F401
from marac.cases.models import Case, CaseChange, CaseLocation, CaseParty, LegalHold, ReferenceCounter  # noqa: F401
from marac.people.models import Location, Person, PersonName  # noqa: F401
from marac.sharing.models import SharingRecord, SharingRule  # noqa: F401
from marac.actions.models import Action, ActionUpdate  # noqa: F401
from marac.meetings.models import AgendaItem, Attendance, Attendee, Meeting, MinuteAmendment, ResearchReturn  # noqa: F401
from marac.asb.models import CaseReviewApplication, CaseReviewSettings, Intervention, Recommendation  # noqa: F401
from marac.mace.models import ConcernLink, Review  # noqa: F401
from marac.notifications.models import EmailOptOut, SentReminder  # noqa: F401
from marac.packs.models import PackBuild, PackIssue, PackRender  # noqa: F401
from marac.retention.models import RetentionSchedule  # noqa: F401
from marac.subjects.models import Rectification, SubjectCase, SubjectRequest, SubjectResponse  # noqa: F401
from marac.transfers.models import CaseTransfer  # noqa: F401
import marac.stats.models  # noqa: F401,E402  (the statistics' vocabularies; no tables)
import marac.disclosures.models  # noqa: F401,E402  (the disclosure report's vocabulary; no tables)
