"""Need-to-know rules and the sharing log."""
from sqlalchemy import select

from marac.agencies.models import AgencyKind
from marac.audit.services import record
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.panels.models import Role
from marac.sharing.models import DEFAULT_RULES, Category, SharingRecord, SharingRule


def rules_for(panel):
    """{agency kind: set of categories} for the panel: its own rules, else the defaults."""
    rows = db.session.execute(select(SharingRule).where(SharingRule.panel_id == panel.id)).scalars().all()
    if not rows:
        return {kind: set(categories) for kind, categories in DEFAULT_RULES.items()}
    rules = {kind: set() for kind in AgencyKind}
    for row in rows:
        if row.is_allowed:
            rules.setdefault(row.agency_kind, set()).add(row.category)
    return rules


def set_rules(actor, panel, allowed):
    """Replace the panel's rules with `allowed` ({kind: set of categories}); audit what changed.
    Returns the changes, as "kind:category:on|off"."""
    before = rules_for(panel)
    existing = {(r.agency_kind, r.category): r for r in db.session.execute(
        select(SharingRule).where(SharingRule.panel_id == panel.id)).scalars()}
    changed = []
    for kind in AgencyKind:
        for category in Category:
            is_allowed = category in allowed.get(kind, set())
            if is_allowed != (category in before.get(kind, set())):
                changed.append(f"{kind}:{category}:{'on' if is_allowed else 'off'}")
            row = existing.get((kind, category))
            if row is None:
                db.session.add(SharingRule(panel_id=panel.id, agency_kind=kind, category=category,
                                           is_allowed=is_allowed))
            else:
                row.is_allowed = is_allowed
    db.session.flush()
    record("sharing.rules_changed", actor, panel, detail={"changes": changed})
    return changed


def panel_categories(panel, user):
    """The categories of the panel's cases that the user may see by their role (not as referrer)."""
    roles = panel.roles_of(user)
    if Role.MANAGER in roles:
        return set(Category)
    if roles & {Role.CHAIR, Role.REPRESENTATIVE}:
        return set(rules_for(panel).get(user.agency.kind, set()))
    return set()


def visible_categories(case, user, by_panel=None):
    """The categories of the panel's record of this case that the user may see by their role (empty
    when none). Making the referral grants none of them: the referrer sees the referral as they sent
    it (Case.sent_referral), and the record only as far as a role lets them. Pass by_panel (from
    panel_categories) when checking many cases of one panel, to read the rules once."""
    return by_panel if by_panel is not None else panel_categories(case.panel, user)


def record_disclosure(case, user, categories, purpose="case page viewed"):
    """Write one sharing record per category shown, under the panel's lawful basis."""
    now = utcnow()
    for category in sorted(categories):
        db.session.add(SharingRecord(case_id=case.id, category=category, agency_id=user.agency_id,
                                     user_id=user.id, shared_at=now, purpose=purpose,
                                     lawful_basis=case.panel.lawful_basis))
    db.session.flush()


def records_for(case, page, per_page=50):
    """One page of the case's sharing log, newest first."""
    stmt = select(SharingRecord).where(SharingRecord.case_id == case.id).order_by(SharingRecord.shared_at.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)
