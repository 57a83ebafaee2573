"""MACE reviews and registers: each child's review clock, recording a review, the list of reviews due
and overdue, and the registers of persons and locations of concern built over what the referrals
name (CaseParty with PartyRole.PERSON_OF_CONCERN, CaseLocation), grouped by blind index, with the
links and unlinks the panel has made (ConcernLink). Nothing here decrypts a table to match."""
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from marac.audit.services import record
from marac.cases import services as case_services
from marac.cases.models import VISIBLE_TO_PANEL, Case, CaseLocation, CaseParty, CaseStatus, PartyRole, risk_levels
from marac.core.pagination import ListPage
from marac.core.steps import StepRefused
from marac.core.timeutil import today, utcnow
from marac.core.workdays import is_working_day
from marac.extensions import db
from marac.mace.models import (SCOPE_AGE_LIMIT, ConcernKind, ConcernLink, DisruptionTactic, LinkAction, Review,
                               ReviewState)
from marac.panels.models import PanelKind, Role
from marac.people.models import Location, Person, PersonName
from marac.sharing.models import Category
from marac.sharing.services import disclose, panel_categories

DUE_WINDOW = dt.timedelta(weeks=2)  # a review is listed as due this long before its date
MIN_WEEKS, MAX_WEEKS = 1, 52


# --- who -------------------------------------------------------------------------------------------

def is_mace(panel):
    """Whether the panel is a MACE panel (reviews and registers are MACE's)."""
    return panel.kind == PanelKind.MACE


def can_read(user, panel):
    """The reviews list and the registers: a MACE panel's case readers (manager, chair, representatives)."""
    return is_mace(panel) and panel.can_list_cases(user)


def can_run(user, panel):
    """Recording reviews and linking or unlinking cases in the registers: the manager and the chair,
    as at meetings; representatives read."""
    return can_read(user, panel) and bool(panel.roles_of(user) & {Role.MANAGER, Role.CHAIR})


def can_record_review(user, case):
    """Record a review of an accepted MACE case: the panel's manager or chair."""
    return (case.can_view_record(user) and case.status == CaseStatus.ACCEPTED and can_run(user, case.panel))


def can_set_interval(user, panel):
    """The review interval is the panel manager's setting."""
    return is_mace(panel) and panel.is_manager(user)


# --- the review clock ------------------------------------------------------------------------------

def next_working_day(day):
    """The day itself if it is a working day, else the next working day (weekends, bank holidays)."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def accepted_on(case):
    """The date the case was accepted (screening), from which its first review is counted."""
    return case.screened_at.date() if case.screened_at else None


def review_due_on(case, last_reviewed_on, weeks):
    """When the case's next review is due: `weeks` after the last review (after acceptance before the
    first), moved to the next working day. None for a case not open (a closed case has no clock)."""
    start = last_reviewed_on or accepted_on(case)
    if case.status != CaseStatus.ACCEPTED or start is None:
        return None
    return next_working_day(start + dt.timedelta(weeks=weeks))


def review_state(due_on, on):
    """ReviewState of a review due on `due_on`, seen on day `on`."""
    if due_on < on:
        return ReviewState.OVERDUE
    return ReviewState.DUE if due_on <= on + DUE_WINDOW else ReviewState.ON_TRACK


def reviews_of(case):
    """The case's reviews, latest first."""
    return db.session.execute(select(Review).where(Review.case_id == case.id)
                              .order_by(Review.reviewed_on.desc(), Review.created_at.desc())).scalars().all()


def _last_reviews(case_ids):
    """{case id: its latest Review} of these cases."""
    latest = {}
    if case_ids:
        for review in db.session.execute(select(Review).where(Review.case_id.in_(case_ids))
                                          .order_by(Review.reviewed_on, Review.created_at)).scalars():
            latest[review.case_id] = review
    return latest


@dataclass
class DueReview:
    """A child's case on the list of reviews: when its review is due and how it stands."""

    case: Case
    due_on: dt.date
    state: str
    last: Review | None


def reviews_due(panel, page, on=None, per_page=50):
    """One page (ListPage of DueReview) of the panel's open cases whose review is overdue or due within
    DUE_WINDOW of `on` (today), the most overdue first."""
    on = on or today()
    cases = db.session.execute(select(Case).where(Case.panel_id == panel.id, Case.status == CaseStatus.ACCEPTED)
                               ).scalars().all()
    last = _last_reviews([c.id for c in cases])
    due = []
    for case in cases:
        latest = last.get(case.id)
        due_on = review_due_on(case, latest.reviewed_on if latest else None, panel.review_interval_weeks)
        if due_on is not None and review_state(due_on, on) != ReviewState.ON_TRACK:
            due.append(DueReview(case, due_on, review_state(due_on, on), latest))
    due.sort(key=lambda d: (d.due_on, d.case.reference or ""))
    return ListPage(due, page, per_page)


# What the list of reviews shows of each case: the young person's name (identity, and children: the
# subject of a MACE case is a child or young person, cases.models.ROLE_CATEGORIES) and the risk at referral.
REVIEW_LIST_SHOWS = {Category.IDENTITY, Category.CHILDREN, Category.RISK_CHECKLIST}


def declare_reviews_list(actor, panel, due):
    """Declare a page of the reviews list; returns {case id: the categories shown}."""
    return disclose(actor, [d.case for d in due], REVIEW_LIST_SHOWS, action="mace.reviews_listed", target=panel,
                    purpose="reviews due listed")


def shows_name(shown):
    """Whether a list may name a MACE case's young person, given the categories shown of the case."""
    return {Category.IDENTITY, Category.CHILDREN} <= set(shown)


def age_on(date_of_birth, on):
    """Whole years of age on a date."""
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def record_review(actor, case, reviewed_on, risk_level, what_changed, tactics, disruption_plan, stays_in_scope):
    """Record a review of an accepted MACE case (by its manager or chair). A young person stays in scope
    only while under SCOPE_AGE_LIMIT on the review date; one who leaves scope is then closed through
    cases.services.close_case (with its outcome)."""
    if not can_record_review(actor, case):
        raise StepRefused("Only an open MACE case can be reviewed, by the panel's manager or chair.")
    if reviewed_on is None:
        raise StepRefused("Enter the date of the review", field="reviewed_on")
    if reviewed_on > today():
        raise StepRefused("The date of the review must be today or in the past", field="reviewed_on")
    started = accepted_on(case)
    if started and reviewed_on < started:
        raise StepRefused("The date of the review must be on or after the day the case was accepted",
                          field="reviewed_on")
    if risk_level not in risk_levels(case.panel.kind):
        raise StepRefused("Choose the risk level now", field="risk_level")
    if any(t not in DisruptionTactic.values() for t in tactics or []):
        raise StepRefused("Choose tactics from the list", field="tactics")
    subject = case.subject
    born = subject.date_of_birth if subject else None
    if stays_in_scope and born and age_on(born, reviewed_on) >= SCOPE_AGE_LIMIT:
        raise StepRefused(f"The young person was {SCOPE_AGE_LIMIT} or over on the date of the review, so they "
                          f"cannot stay in the panel's scope: answer no, then close the case.",
                          field="stays_in_scope")
    review = Review(case_id=case.id, case=case, reviewed_on=reviewed_on, recorded_by_id=actor.id,
                    risk_level=risk_level, tactics=sorted(set(tactics or [])), stays_in_scope=bool(stays_in_scope))
    review.what_changed = (what_changed or "").strip() or None
    review.disruption_plan = (disruption_plan or "").strip() or None
    db.session.add(review)
    db.session.flush()
    record("mace.review_recorded", actor, review,
           detail={"case": str(case.id), "stays_in_scope": review.stays_in_scope})
    return review


def set_interval(actor, panel, weeks):
    """The manager sets the weeks between a child's reviews."""
    if not can_set_interval(actor, panel):
        raise StepRefused("Only the panel manager sets the review interval.")
    if weeks is None or not MIN_WEEKS <= weeks <= MAX_WEEKS:
        raise StepRefused(f"Enter a number of weeks from {MIN_WEEKS} to {MAX_WEEKS}", field="weeks")
    old = panel.review_interval_weeks
    panel.review_interval_weeks = weeks
    db.session.flush()
    record("mace.review_interval_set", actor, panel, detail={"from": old, "to": weeks})


def case_page_part(actor, case, categories):
    """What the case page shows of a MACE case's reviews (templates/mace/_reviews.html): its reviews,
    the next review date and whether the viewer may record one; None for other panels and for someone
    who does not see the panel's record (a referrer without a role)."""
    if not is_mace(case.panel) or not case.can_view_record(actor):
        return None
    reviews = reviews_of(case)
    due_on = review_due_on(case, reviews[0].reviewed_on if reviews else None, case.panel.review_interval_weeks)
    return {"reviews": reviews, "due_on": due_on, "state": review_state(due_on, today()) if due_on else None,
            "can_record": can_record_review(actor, case), "can_close": case.can_close(actor),
            "left_scope": bool(reviews) and not reviews[0].stays_in_scope and case.status == CaseStatus.ACCEPTED,
            "categories": categories}


case_services.case_page_parts["mace_reviews"] = case_page_part


# --- registers of persons and locations of concern -------------------------------------------------

REGISTER_CATEGORY = {ConcernKind.PERSON: Category.IDENTITY, ConcernKind.LOCATION: Category.CONTACT}


@dataclass
class LinkedCase:
    """A case of a register entry: named in its referral, or linked by the panel (the link)."""

    case: Case
    named: bool
    link: ConcernLink | None = None


@dataclass
class Entry:
    """A person or location of concern: the rows that name it (the anchor is shown), its cases."""

    kind: str
    index: str
    anchor: object  # a PersonName or a Location, from a case the viewer may see
    cases: list = field(default_factory=list)  # LinkedCase, the viewer's only
    tactics: list = field(default_factory=list)
    categories: set = field(default_factory=set)  # what the viewer may see of the panel's cases
    row_ids: set = field(default_factory=set)  # the rows naming it in cases the viewer may see (its addresses)

    @property
    def first_on(self):
        """The first date the entry was met: the earliest referral or link."""
        return min(_dated(lc) for lc in self.cases)

    @property
    def last_on(self):
        """The latest date of a referral naming it or a link to it."""
        return max(_dated(lc) for lc in self.cases)

    @property
    def entry_id(self):
        """The id in the entry's address: its anchor row's."""
        return self.anchor.id


def _dated(linked):
    if linked.link is not None:
        return linked.link.at.date()
    return linked.case.referred_on or linked.case.created_at.date()


def _named_rows(panel, kind, only_index=None):
    """(index, anchor row, case) of everything the panel's referrals name in this register (with this
    blind index only, when given)."""
    visible = (Case.panel_id == panel.id, Case.status.in_(VISIBLE_TO_PANEL))
    if kind == ConcernKind.PERSON:
        stmt = (select(PersonName.name_dob_index, PersonName, Case)
                .join(CaseParty, CaseParty.person_id == PersonName.person_id).join(Case, Case.id == CaseParty.case_id)
                .where(CaseParty.role == PartyRole.PERSON_OF_CONCERN, PersonName.is_alias.is_(False),
                       PersonName.name_dob_index.is_not(None), *visible))
    else:
        stmt = (select(Location.address_index, Location, Case)
                .join(CaseLocation, CaseLocation.location_id == Location.id).join(Case, Case.id == CaseLocation.case_id)
                .where(Location.address_index.is_not(None), *visible))
    if only_index is not None:
        stmt = stmt.where((PersonName.name_dob_index if kind == ConcernKind.PERSON else Location.address_index)
                          == only_index)
    return db.session.execute(stmt.order_by(Case.referred_on, Case.reference)).all()


def _links(panel, kind, indexes=None):
    column = ConcernLink.name_dob_index if kind == ConcernKind.PERSON else ConcernLink.address_index
    stmt = select(ConcernLink).where(ConcernLink.panel_id == panel.id, ConcernLink.kind == kind)
    if indexes is not None:
        stmt = stmt.where(column.in_(list(indexes)))
    return db.session.execute(stmt.order_by(ConcernLink.at)).scalars().all()


def register_entries(actor, panel, kind, only_index=None):
    """The register's entries the actor may be shown: grouped by blind index, the referrals' naming
    with the panel's links and unlinks applied (the latest change for a case wins), each keeping only
    the cases the actor may see; an entry with none of those (or none naming it that they may see, to
    show it by) is left out. None when the actor's role may not see the register's category."""
    by_panel = panel_categories(panel, actor)
    if REGISTER_CATEGORY[kind] not in by_panel:
        return None
    groups = {}
    for index, anchor, case in _named_rows(panel, kind, only_index):
        group = groups.setdefault(index, {"anchor": None, "cases": {}, "rows": set()})
        if case.can_view_record(actor):
            group["anchor"] = group["anchor"] or anchor
            group["rows"].add(anchor.id)
        group["cases"].setdefault(case.id, LinkedCase(case, named=True))
    for link in _links(panel, kind, groups.keys()):
        cases = groups[link.match_index]["cases"]
        if link.action == LinkAction.LINKED:
            named = cases[link.case_id].named if link.case_id in cases else False
            cases[link.case_id] = LinkedCase(link.case, named=named, link=link)
        else:
            cases.pop(link.case_id, None)
    entries = []
    for index, group in groups.items():
        shown = [lc for lc in group["cases"].values() if lc.case.can_view_record(actor)]
        if group["anchor"] is None or not shown:
            continue
        entries.append(Entry(kind, index, group["anchor"], sorted(shown, key=_dated), categories=by_panel,
                             row_ids=group["rows"]))
    _add_tactics(entries, by_panel)
    return sorted(entries, key=lambda e: e.last_on, reverse=True)


def _add_tactics(entries, by_panel):
    """The disruption tactics recorded at the reviews of each entry's cases (criminal justice: only
    for a viewer who may see it)."""
    if Category.CRIMINAL_JUSTICE not in by_panel:
        return
    case_ids = {lc.case.id for e in entries for lc in e.cases}
    used = {}
    if case_ids:
        for case_id, tactics in db.session.execute(select(Review.case_id, Review.tactics)
                                                   .where(Review.case_id.in_(case_ids))):
            used.setdefault(case_id, set()).update(tactics or [])
    for entry in entries:
        found = set().union(*(used.get(lc.case.id, set()) for lc in entry.cases))
        entry.tactics = [t for t in DisruptionTactic if t in found]


def register_page(actor, panel, kind, page, per_page=25):
    """One page of a register (None when the actor's role may not see its category), declared: the
    sharing records say which cases' persons or locations were shown."""
    entries = register_entries(actor, panel, kind)
    if entries is None:
        return None
    listing = ListPage(entries, page, per_page)
    if kind == ConcernKind.PERSON:  # each name shows its person's date of birth: the page's people in one query
        people = {person.id: person for person in db.session.execute(
            select(Person).where(Person.id.in_({e.anchor.person_id for e in listing.items}))).scalars()}
        for entry in listing.items:
            set_committed_value(entry.anchor, "person", people.get(entry.anchor.person_id))
    _declare(actor, panel, kind, [lc.case for e in listing.items for lc in e.cases], "register viewed")
    return listing


def _declare(actor, panel, kind, cases, purpose):
    disclose(actor, cases, {REGISTER_CATEGORY[kind], Category.CRIMINAL_JUSTICE}, action=f"mace.{kind}_viewed",
             target=panel, purpose=f"{ConcernKind.label_of(kind).lower()} {purpose}")


def anchor_of(kind, entry_id):
    """The row an entry's address names (a PersonName or a Location), or None."""
    return db.session.get(PersonName if kind == ConcernKind.PERSON else Location, entry_id)


def entry_for(actor, panel, kind, entry_id):
    """The register entry the address names, as the actor may be shown it, or None (unknown, of
    another panel, or nothing of it the actor may see: the same answer)."""
    anchor = anchor_of(kind, entry_id)
    index = getattr(anchor, "name_dob_index" if kind == ConcernKind.PERSON else "address_index", None)
    if anchor is None or index is None or (kind == ConcernKind.PERSON and anchor.is_alias):
        return None
    entries = [e for e in register_entries(actor, panel, kind, only_index=index) or [] if entry_id in e.row_ids]
    return entries[0] if entries else None


def declare_entry(actor, panel, entry):
    """Declare an entry's page: the person's or location's category of each of its cases shown."""
    _declare(actor, panel, entry.kind, [lc.case for lc in entry.cases], "entry viewed")


def history_of(actor, panel, entry):
    """The links and unlinks of the entry, newest first, for cases the actor may see."""
    return [link for link in reversed(_links(panel, entry.kind, {entry.index})) if link.can_view(actor)]


def _key_from(link, entry):
    anchor = entry.anchor
    if entry.kind == ConcernKind.PERSON:
        link.name, link.date_of_birth = anchor.full_name, anchor.person.date_of_birth
    else:
        link.address, link.postcode = anchor.address, anchor.postcode


def _change(actor, panel, entry, case, action, reason):
    link = ConcernLink(panel_id=panel.id, case_id=case.id, case=case, kind=entry.kind, action=action, at=utcnow(),
                       user_id=actor.id)
    link.reason = reason
    _key_from(link, entry)
    from marac.core.blind_index import fill_indexes  # one helper sets every index of the model

    fill_indexes(link)
    db.session.add(link)
    db.session.flush()
    record(f"mace.concern_{action}", actor, link, detail={"case": str(case.id), "register": entry.kind})
    return link


def link_case(actor, panel, entry, reference, reason):
    """Link a case of the panel (by its reference) to the entry, with the reason (encrypted)."""
    if not can_run(actor, panel):
        raise StepRefused("Only the panel's manager or chair links cases in the registers.")
    reason = (reason or "").strip()
    if not reason:
        raise StepRefused("Give the reason for the link", field="reason")
    wanted = (reference or "").strip().upper()
    case = db.session.execute(select(Case).where(Case.panel_id == panel.id, Case.status.in_(VISIBLE_TO_PANEL),
                                                 func.upper(Case.reference) == wanted)).scalar_one_or_none()
    if not wanted or case is None or not case.can_view_record(actor):
        raise StepRefused("No case of this panel has that reference", field="reference")
    if any(lc.case.id == case.id for lc in entry.cases):
        raise StepRefused("That case is already linked", field="reference")
    return _change(actor, panel, entry, case, LinkAction.LINKED, reason)


def unlink_case(actor, panel, entry, case, reason):
    """Unlink one of the entry's cases, with the reason (encrypted): the referral's naming is set aside."""
    if not can_run(actor, panel):
        raise StepRefused("Only the panel's manager or chair unlinks cases in the registers.")
    if not any(lc.case.id == case.id for lc in entry.cases):
        raise StepRefused("That case is not linked to this entry.")
    reason = (reason or "").strip()
    if not reason:
        raise StepRefused("Give the reason for unlinking the case", field="reason")
    return _change(actor, panel, entry, case, LinkAction.UNLINKED, reason)
