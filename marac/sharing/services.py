"""Need-to-know rules and the sharing log."""
import uuid

from flask import g, has_request_context
from sqlalchemy import insert, select

from marac.agencies.models import AgencyKind
from marac.audit.services import record, record_read
from marac.core.permissions import real_object
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.panels.models import Role
from marac.sharing.models import DEFAULT_RULES, Category, SharingRecord, SharingRule


def rules_for(panel):
    """{agency kind: set of categories} for the panel: its own rules, else the defaults. Read once per
    panel in a request (a list page asks for every row), and handed out as a copy."""
    cache = g.setdefault("_sharing_rules", {}) if has_request_context() else {}
    if panel.id not in cache:
        cache[panel.id] = _stored_rules(panel)
    return {kind: set(categories) for kind, categories in cache[panel.id].items()}


def _stored_rules(panel):
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
    if has_request_context():
        g.get("_sharing_rules", {}).pop(panel.id, None)
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


def _sharing_records(case, user, categories, purpose, now):
    """The rows of SharingRecord for what a view shows of one case (inserted as rows, not objects: a
    list writes some 150 of them a page, and nothing reads them back in the request)."""
    return [dict(id=uuid.uuid4(), case_id=case.id, category=category, agency_id=user.agency_id, user_id=user.id,
                 shared_at=now, purpose=purpose[:64], lawful_basis=case.panel.lawful_basis)
            for category in sorted(categories)]


def disclose(actor, cases, shows, *, action, target=None, purpose, detail=None, shown_of=None):
    """Declare what a view shows: of each case, the categories in `shows` that the actor may see.

    Writes a sharing record per case and category shown (its purpose: what was viewed) and one audit
    event for the view (`action` on `target`, naming the cases and categories, under the panel's
    lawful basis, with `detail` added), which also declares the disclosure for the request
    (core.disclosure). One INSERT per table, however many cases. Returns {case id: categories shown},
    for the template to honour. `shown_of(case)`, when given, says what is shown instead (a referrer's
    page shows their referral as sent, beyond what the rules let their role see).
    """
    actor = real_object(actor)  # read once a case and category: not through the request's proxy each time
    by_panel, shown, records, now = {}, {}, [], utcnow()
    for case in cases:
        if case.id in shown:
            continue
        if case.panel_id not in by_panel:
            by_panel[case.panel_id] = panel_categories(case.panel, actor)
        shown[case.id] = (shown_of(case) if shown_of else
                          set(shows) & visible_categories(case, actor, by_panel[case.panel_id]))
        records += _sharing_records(case, actor, shown[case.id], purpose, now)
    if records:
        db.session.execute(insert(SharingRecord), records)
    bases = {case.panel.lawful_basis for case in cases}
    record_read(action, actor, target, recipient_agency_id=actor.agency_id,
                purpose=bases.pop()[:200] if len(bases) == 1 else None,
                detail={**(detail or {}), "viewed": purpose, "cases": [str(case_id) for case_id in shown],
                        "categories": sorted(set().union(*shown.values()))})
    return shown


def records_for(case, page, per_page=50):
    """One page of the case's sharing log, newest first."""
    stmt = select(SharingRecord).where(SharingRecord.case_id == case.id).order_by(SharingRecord.shared_at.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)
