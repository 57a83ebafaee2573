"""Demo data at scale: `flask demo seed --cases N` adds N cases to a demo panel in batches, for the
scale benchmarks (1,000 to 100,000 cases).

The services build one case at a time (a query or two per step); at this size that is too slow, so the
rows are built in memory (by forked worker processes, while the main one inserts) and inserted a batch
at a time, through the same encryption and blind indexes as the services: each encrypted value by
core.crypto for its own table, column and row (as the Encrypted attributes do), each person, name and
location as people.services.build_person and build_location make them, with the blind indexes of their
models' own declarations (Rows; a test compares the two), the plain columns derived from the answers by
the function a submission uses, and references from the counters next_reference uses. What a
services-built case has, these have: a victim (or young person, or complainant) with their family, the
referral as the panel's record and as sent, the history, and for a case heard at a meeting its agenda
item, minute and actions. One audit event records the load (the services would write several a case).

The shape is realistic rather than uniform: referrals over the past four years; most subjects referred
once and a tail referred two to five times (about 30% of cases are repeats, as nationally), a repeat
sharing the subject's name and date of birth and flagged as detect_repeat would flag it; mostly accepted
or closed, some awaiting screening, a few drafts; referring agencies spread over the panel's members (the
police most for MARAC); about one action per heard case, owned by the member agencies. Cases are heard at
meetings of the panel's capacity, so a meeting is the size of a real one however many cases there are.
"""
import datetime as dt
import multiprocessing
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import LargeBinary, func, insert, select, text
from sqlalchemy import inspect as sa_inspect

from marac.actions.models import Action, ActionStatus, ActionUpdate, UpdateKind
from marac.agencies.models import AgencyKind
from marac.audit.services import record
from marac.cases import questions, services
from marac.cases.models import (Case, CaseChange, CaseLocation, CaseParty, CaseStatus, ChangeAction, ClosureOutcome,
                                PartyRole, reference_parts)
from marac.core.blind_index import BlindIndex, message, tag
from marac.core.crypto import Encrypted, encrypt_value, keyring, seal, serialise
from marac.core.timeutil import today as today_
from marac.core.workdays import add_working_days
from marac.demo.cases import AGES, POLICE_SHARE, _asb_answers, _dob, _mace_answers, _marac_answers, _postcode
from marac.demo.cases import LAST as BASE_LAST
from marac.demo.meetings import ACTIONS
from marac.extensions import db
from marac.meetings.models import AgendaItem, Attendance, AttendanceStatus, ItemStatus, Meeting, MeetingStatus
from marac.panels.models import PanelKind, Role
from marac.people.models import Gender, Location, LocationKind, Person, PersonName
from marac.people.services import CODED_FIELDS, PERSON_FIELDS, age_band, split_aliases

BATCH_SIZE = 2000
MEMO_SIZE = 50_000  # names whose blind indexes are remembered (Rows.row)
SPAN_DAYS = 4 * 365  # referrals over the past four years
# How many referrals a subject gets, and how likely each count is: about 30% of cases are repeats (the
# national MARAC rate), most subjects are referred once, none more than five times.
REFERRALS_PER_SUBJECT = ((1, 0.62), (2, 0.22), (3, 0.10), (4, 0.04), (5, 0.02))
# Days between a subject's referrals: mostly within the 12 months that make a repeat, some after.
REPEAT_GAP_DAYS = (21, 330)
LATER_GAP_DAYS = (380, 700)
LATER_SHARE = 0.08
# Referrals newer than this are not heard yet: drafts, awaiting screening, or accepted and waiting.
WAITING_DAYS = 21
SCREENED_OUT_SHARE = 0.05

# Obviously fake names, built from parts so that 100,000 subjects rarely share a name (and, with the
# date of birth, never within one run): "Examina Fakewick", "Mockus Shamthorpe".
FIRST_STARTS = ("Test", "Exam", "Demo", "Fict", "Plac", "Mock", "Samp", "Dumm", "Pret", "Imag", "Fak", "Notr",
                "Sham", "Phon", "Bog", "Faux", "Invent", "Madu")
FEMALE_ENDS = ("ina", "ella", "ette", "ia", "ora", "ita", "anne", "elle", "ara", "issa", "ly", "ene")
MALE_ENDS = ("o", "us", "io", "an", "er", "ard", "ric", "win")
LAST_STEMS = ("Fake", "Mock", "Sham", "Phony", "Pretend", "Notreal", "Madeup", "Sample", "Dummy", "Fiction",
              "Invent", "Example", "Placebo", "Bogus", "Faux", "Ersatz", "Imitat", "Testi")
LAST_ENDS = ("son", "ton", "ford", "well", "ley", "by", "field", "worth", "ham", "stead", "bridge", "more",
             "dale", "wick", "combe", "hurst", "wood", "croft", "gate", "shaw", "thorpe", "burn", "cliffe", "holme")
SCREENING_REASON = "Demo: does not meet the criteria"
RISK_SUMMARY = "Demo: risk remains high; agencies agreed the safety plan."
MINUTE = "Demo minute: agencies shared what they hold; actions agreed."


@dataclass
class Family:
    """A subject and the people around them, the same at each of their referrals."""

    subject: dict
    others: dict = field(default_factory=dict)  # answers key: list of people (perpetrators, children, ...)
    cases: list = field(default_factory=list)  # (referred on, case id, status) of their cases so far


@dataclass
class Planned:
    """One case to add: when, whose, and what became of it."""

    on: dt.date
    family: Family
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    status: str = CaseStatus.SUBMITTED
    repeat_of_id: uuid.UUID | None = None
    heard_on: dt.date | None = None
    meeting_id: uuid.UUID | None = None
    position: int = 0
    closed_on: dt.date | None = None
    reference: str | None = None


@dataclass
class Result:
    """What seed_at_scale did: cases added, seconds taken (inserting, then refreshing statistics)."""

    cases: int = 0
    repeats: int = 0
    people: int = 0
    actions: int = 0
    meetings: int = 0
    seconds: float = 0.0
    analyse_seconds: float = 0.0

    @property
    def per_second(self):
        """Cases added per second, statistics refresh included."""
        total = self.seconds + self.analyse_seconds
        return self.cases / total if total else 0.0


def _at(day, hour=10):
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.timezone.utc)


def demo_panel(kind):
    """The demo panel of this kind (demo.services.PANELS) with a manager and a chair, or None."""
    from marac.demo.services import PANELS  # noqa: PLC0415 (the demo's own list of panels)
    from marac.panels.models import Panel

    name = next(name for panel_kind, name, *_ in PANELS if panel_kind == kind)
    panel = db.session.execute(select(Panel).where(Panel.name == name)).scalar_one_or_none()
    if panel is None or not {Role.MANAGER, Role.CHAIR} <= {r.role for r in panel.roles}:
        return None
    return panel


class Names:
    """Fake names and dates of birth; a subject's name with their date of birth is never given twice."""

    def __init__(self, rng):
        self.rng = rng
        self.used = set()

    def name(self, male=False):
        """(first names, last name)."""
        rng = self.rng
        first = rng.choice(FIRST_STARTS) + rng.choice(MALE_ENDS if male else FEMALE_ENDS)
        while True:
            last = rng.choice(LAST_STEMS) + rng.choice(LAST_ENDS)
            if last not in BASE_LAST:  # the plain demo's people keep names of their own
                return first, last

    def person(self, on, min_age, max_age, male=False):
        """A person's answers: names and date of birth (age between the two on the day)."""
        first, last = self.name(male)
        return {"first_names": first, "last_name": last, "aliases": "",
                "date_of_birth": _dob(self.rng, min_age, max_age, on).isoformat()}

    def subject(self, on, min_age, max_age):
        """A new subject, with a name and date of birth no other subject of this run has (now and then
        an alias too), and a postcode."""
        while True:
            person = self.person(on, min_age, max_age)
            key = (person["first_names"], person["last_name"], person["date_of_birth"])
            if key not in self.used:
                break
        self.used.add(key)
        if self.rng.random() < 0.03:
            alias = self.name()
            alias_key = (*alias, person["date_of_birth"])
            if alias_key not in self.used:
                self.used.add(alias_key)
                person["aliases"] = " ".join(alias)
        person["postcode"] = _postcode(self.rng)
        return person


class Plan:
    """The cases to add, oldest first, with their subjects, statuses, repeat links and hearings."""

    def __init__(self, panel, count, rng, today):
        self.panel = SimpleNamespace(id=panel.id, kind=panel.kind, weekday=panel.weekday, capacity=panel.capacity)
        self.kind, self.rng, self.today = panel.kind, rng, today
        self.names = Names(rng)
        self.cases = self._referrals(count)
        self._decide()
        self.meetings = self._hearings()
        self.pools = {name: self._pool(name, count) for name in ("persons", "locations")}

    def _family(self, on):
        rng, names, kind = self.rng, self.names, self.kind
        family = Family(subject=names.subject(on, *AGES[kind]))
        if kind == PanelKind.MARAC:
            perpetrator = {**names.person(on, 18, 70, male=True), "gender": Gender.MALE,
                           "relationship": rng.choice(list(questions.Relationship))}
            children = [{**names.person(on, 0, 15), "lives_with": questions.LivesWith.VICTIM}
                        for _ in range(rng.choices((0, 1, 2), (0.4, 0.35, 0.25))[0])]
            family.others = {"perpetrators": [perpetrator], "children": children}
        elif kind == PanelKind.ASB:
            family.others = {"respondents": [names.person(on, 18, 70, male=True)]}
        return family

    def _referrals(self, count):
        rng, today = self.rng, self.today
        weights = [w for _, w in REFERRALS_PER_SUBJECT]
        counts = [n for n, _ in REFERRALS_PER_SUBJECT]
        planned = []
        while len(planned) < count:
            on = today - dt.timedelta(days=rng.randint(0, SPAN_DAYS))
            family = self._family(on)
            for number in range(rng.choices(counts, weights)[0]):
                if number:
                    gap = LATER_GAP_DAYS if rng.random() < LATER_SHARE else REPEAT_GAP_DAYS
                    on += dt.timedelta(days=rng.randint(*gap))
                if on > today or len(planned) >= count:
                    break
                planned.append(Planned(on=on, family=family))
        planned.sort(key=lambda p: p.on)
        return planned

    def _decide(self):
        """Each case's status, and its repeat link as detect_repeat sets it: the latest earlier case of the
        same subject, not screened out (nor a draft, which the panel does not see), referred within the
        repeat window."""
        rng, today = self.rng, self.today
        for case in self.cases:
            age = (today - case.on).days
            if age <= WAITING_DAYS:
                roll = rng.random()
                case.status = (CaseStatus.DRAFT if roll < 0.12 else CaseStatus.SUBMITTED if roll < 0.6
                               else CaseStatus.ACCEPTED)
            elif rng.random() < SCREENED_OUT_SHARE:
                case.status = CaseStatus.SCREENED_OUT
            else:
                case.status = CaseStatus.ACCEPTED
                case.heard_on = self._hearing_day(case.on)
                closing = 0.95 if age > 365 else 0.6 if age > 90 else 0.15
                closed_on = case.heard_on + dt.timedelta(days=rng.randint(14, 90))
                if rng.random() < closing and closed_on < today:
                    case.status, case.closed_on = CaseStatus.CLOSED, closed_on
            if case.status != CaseStatus.DRAFT:
                window_start = case.on - services.REPEAT_WINDOW
                earlier = next((c for c in reversed(case.family.cases)
                                if c[2] != CaseStatus.SCREENED_OUT and c[0] >= window_start), None)
                case.repeat_of_id = earlier[1] if earlier else None
                case.family.cases.append((case.on, case.id, case.status))

    def _hearing_day(self, on):
        """The panel's meeting day a week or two after the referral."""
        day = on + dt.timedelta(days=self.rng.randint(7, 13))
        return day + dt.timedelta(days=(self.panel.weekday - day.weekday()) % 7)

    def _hearings(self):
        """Meetings of at most the panel's capacity on each hearing day; each heard case gets a place."""
        by_day = {}
        for case in self.cases:
            if case.heard_on:
                by_day.setdefault(case.heard_on, []).append(case)
        meetings = []
        capacity = max(1, self.panel.capacity)
        for day in sorted(by_day):
            heard = by_day[day]
            for start in range(0, len(heard), capacity):
                meeting = SimpleNamespace(id=uuid.uuid4(), day=day, hour=9 + (start // capacity) % 8)
                meetings.append(meeting)
                for position, case in enumerate(heard[start:start + capacity]):
                    case.meeting_id, case.position = meeting.id, position
        return meetings

    def answers(self, case, rng):
        """The referral's answers, as the demo writes them, about this case's family."""
        kind, family, on = self.kind, case.family, case.on
        subject = dict(family.subject)
        if kind == PanelKind.MARAC:
            answers = _marac_answers(rng, subject, on)
        elif kind == PanelKind.MACE:
            answers = _mace_answers(rng, subject, on, self.pools["persons"], self.pools["locations"])
        else:
            answers = _asb_answers(rng, subject, on, self.pools["locations"])
        answers.update({key: [dict(person) for person in people] for key, people in family.others.items()})
        return answers

    def _pool(self, name, count):
        """Persons of concern (MACE) or locations (MACE and ASB), one for about every eight cases, so that a
        few cases share each (the registers and linked cases have something to show)."""
        if self.kind == PanelKind.MARAC or (name == "persons" and self.kind != PanelKind.MACE):
            return []
        pool, on = [], self.today
        for number in range(1, max(15, count // 8) + 1):
            if name == "persons":
                pool.append(self.names.person(on, 19, 40, male=True))
            else:
                kind = self.rng.choice([LocationKind.HOTSPOT, LocationKind.PREMISES, LocationKind.ADDRESS])
                pool.append({"kind": kind, "description": f"Demo location {number}",
                             "address": f"{number} Example Lane", "postcode": _postcode(self.rng)})
        return pool

    def assign_references(self):
        """Each case but a draft its reference, in referral order, from the counters next_reference uses
        (a block per year taken under the counter's row lock, then committed)."""
        years = Counter(case.on.year for case in self.cases if case.status != CaseStatus.DRAFT)
        numbers = {year: services.reserve_references(self.kind, year, n) for year, n in sorted(years.items())}
        db.session.commit()
        for case in self.cases:
            if case.status != CaseStatus.DRAFT:
                case.reference = f"{self.kind}-{case.on.year}-{numbers[case.on.year]:04d}"
                numbers[case.on.year] += 1


class FixedRing:
    """The primary data key as the key ring gave it at the start of the run, so that the run's many values
    do not look the ring up one by one (core.crypto.seal takes a ring for this), and so that a worker
    process encrypts with it without a database connection."""

    def __init__(self, ring):
        self._primary = ring.primary()

    def primary(self):
        """(id, raw key) of the primary data key."""
        return self._primary


class Rows:
    """Rows of people, their names and locations exactly as people.services.build_person, set_names and
    build_location make them (the test compares the two), built without ORM objects: each encrypted value
    by encrypt_value for its table, column and row, each blind index from its model's own declaration
    (BlindIndex.registry) under the index's primary key, the tag of a name seen before (a repeat's
    subject) reused."""

    def __init__(self):
        self.ring = FixedRing(keyring())  # kept for the run: a worker process has no key ring of its own
        self.encrypted = {model: {name: getattr(model, name).kind for owner, name in Encrypted.registry
                                  if owner is model} for model in (Person, PersonName, Location)}
        self.indexes = {model: [(entry.attr, entry.index_name, entry.parts) for entry in BlindIndex.registry
                                if issubclass(model, entry.model)] for model in (Person, PersonName, Location)}
        self.keys = {name: keyring().index_keys_for_writing(name)[0][1]
                     for entries in self.indexes.values() for _, name, _ in entries}
        self.columns = {model: [(attr.key, attr.columns[0].name) for attr in sa_inspect(model).column_attrs]
                        for model in (Person, PersonName, Location)}
        self.tags = {}

    def _tags(self, model, obj):
        values = {}
        for attr, name, parts in self.indexes[model]:
            data = message(*parts(obj))
            values[attr] = None if data is None else tag(self.keys[name], data)
        return values

    def row(self, model, obj, same_as=None):
        """The row of a plain object holding a model's plain values (obj.id its row id). `same_as`: every
        value besides the ids that the object holds, under which its blind indexes are remembered (a
        repeat's people come back with the same names), for a while."""
        table = model.__tablename__
        encrypted, row = self.encrypted[model], {}
        tags = self.tags.get(same_as) if same_as else None
        if tags is None:
            tags = self._tags(model, obj)
            if same_as:
                if len(self.tags) > MEMO_SIZE:
                    self.tags.clear()
                self.tags[same_as] = tags
        for key, column in self.columns[model]:
            if column in encrypted:
                value = getattr(obj, column, None)
                row[column] = (None if value is None else
                               encrypt_value(value, encrypted[column], table, column, obj.id, ring=self.ring))
            elif key in tags:
                row[column] = tags[key]
            else:
                row[column] = getattr(obj, key, None)
        return row

    def person(self, answers, on, detail_keys, created_at):
        """(person row, [name rows]) from one person's answers, as build_person builds them."""
        person = SimpleNamespace(id=uuid.uuid4(), created_at=created_at)
        for name in PERSON_FIELDS:
            setattr(person, name, (answers.get(name) or "").strip() or None)
        born = answers.get("date_of_birth")
        person.date_of_birth = dt.date.fromisoformat(born) if isinstance(born, str) and born else born or None
        for name in CODED_FIELDS:
            setattr(person, name, answers.get(name) or None)
        person.age_band = age_band(person.date_of_birth, on)
        person.details = {key: answers[key] for key in detail_keys if answers.get(key) not in (None, "", False)}
        full_name = " ".join(part for part in (person.first_names, person.last_name) if part)
        names = []
        for is_alias, name in [(False, full_name)] + [(True, alias) for alias in split_aliases(answers.get("aliases"))]:
            if name:
                entry = SimpleNamespace(id=uuid.uuid4(), person_id=person.id, person=person, is_alias=is_alias,
                                        full_name=name)
                names.append(self.row(PersonName, entry, same_as=(name, is_alias, person.date_of_birth)))
        return self.row(Person, person), names

    def location(self, answers, kind_default, created_at):
        """A location's row, as build_location builds it."""
        location = SimpleNamespace(id=uuid.uuid4(), created_at=created_at, kind=answers.get("kind") or kind_default)
        for name in ("description", "address", "postcode"):
            setattr(location, name, (answers.get(name) or "").strip() or None)
        return self.row(Location, location)


class Builder:
    """Rows of one batch of cases, ready to insert, table by table."""

    TABLES = (Case, Person, PersonName, CaseParty, Location, CaseLocation, CaseChange, AgendaItem, Action,
              ActionUpdate)

    def __init__(self, plan, context, people, rng):
        self.plan, self.ctx, self.people, self.rng = plan, context, people, rng
        self.ring = people.ring
        self.rows = {model: [] for model in self.TABLES}

    def add(self, case):
        """The rows of one case."""
        plan, ctx, rng = self.plan, self.ctx, self.rng
        answers = plan.answers(case, rng)
        referrer = SimpleNamespace(id=rng.choice(ctx.referrers))
        agency_id = rng.choice(ctx.member_agencies)
        if plan.kind == PanelKind.MARAC and ctx.police and rng.random() < POLICE_SHARE:
            agency_id = ctx.police
        submitted_at = _at(case.on)
        derived = SimpleNamespace(panel=plan.panel)
        services._derive(derived, answers)  # the plain columns, exactly as a submission derives them
        row = {"id": case.id, "panel_id": plan.panel.id, "status": case.status, "referrer_user_id": referrer.id,
               "referring_agency_id": agency_id, "referred_on": derived.referred_on, "criterion": None,
               "police_incidents": None, "risk_score": derived.risk_score, "risk_level": derived.risk_level,
               "codes": derived.codes, "is_repeat": case.repeat_of_id is not None,
               "repeat_of_id": case.repeat_of_id, "is_transfer_in": False, "reference": case.reference,
               "awaits_hearing": case.status == CaseStatus.ACCEPTED and case.meeting_id is None,
               "submitted_at": None, "screened_at": None, "screened_by_id": None, "screening_reason": None,
               "closed_at": None, "closure_outcome": None, "closure_reason": None, "deleted_at": None,
               "sent_referral": None, "created_at": submitted_at, "version": 1}
        row["reference_year"], row["reference_number"] = reference_parts(case.reference)
        for name in ("criterion", "police_incidents"):
            row[name] = getattr(derived, name, None)
        plain = serialise(answers, dict)  # the record and the referral as sent: one serialisation, two seals
        row["referral"] = seal(plain, "cases", "referral", case.id, ring=self.ring)
        changes = self.rows[CaseChange]
        if case.status == CaseStatus.DRAFT:
            changes.append(self._change(case, referrer.id, submitted_at, ChangeAction.DRAFT_SAVED, CaseStatus.DRAFT))
            self.rows[Case].append(row)
            return
        row["sent_referral"] = seal(plain, "cases", "sent_referral", case.id, ring=self.ring)
        row["submitted_at"] = submitted_at
        changes.append(self._change(case, referrer.id, submitted_at, ChangeAction.SUBMITTED, CaseStatus.SUBMITTED))
        if case.status != CaseStatus.SUBMITTED:
            screened_at = _at(case.on + dt.timedelta(days=1), 11)
            row.update(screened_at=screened_at, screened_by_id=ctx.manager)
            if case.status == CaseStatus.SCREENED_OUT:
                row["screening_reason"] = encrypt_value(SCREENING_REASON, str, "cases", "screening_reason", case.id,
                                                        ring=self.ring)
                changes.append(self._change(case, ctx.manager, screened_at, ChangeAction.SCREENED_OUT,
                                            CaseStatus.SCREENED_OUT))
            else:
                changes.append(self._change(case, ctx.manager, screened_at, ChangeAction.ACCEPTED,
                                            CaseStatus.ACCEPTED))
        if case.closed_on:
            row.update(closed_at=_at(case.closed_on, 12), closure_outcome=ClosureOutcome.RISK_REDUCED)
            changes.append(self._change(case, ctx.manager, row["closed_at"], ChangeAction.CLOSED,
                                        CaseStatus.CLOSED))
        self.rows[Case].append(row)
        self._parties(case, answers)
        if case.meeting_id:
            self._hearing(case)

    def _change(self, case, user_id, at, action, status):
        return {"id": uuid.uuid4(), "case_id": case.id, "user_id": user_id, "at": at, "action": action,
                "status": status, "fields": [], "old_values": None, "note": None}

    def _parties(self, case, answers):
        """The case's people and locations, built as rebuild_parties builds them."""
        kind, created_at = self.plan.kind, _at(case.on)
        for position, (role, key, index, detail_keys) in enumerate(services.party_slots(kind, answers)):
            group = answers[key] if index is None else answers[key][index]
            person, names = self.people.person(group, case.on, detail_keys, created_at)
            self.rows[Person].append(person)
            self.rows[PersonName].extend(names)
            relationship = (group.get("relationship") or None) if role == PartyRole.PERPETRATOR else None
            self.rows[CaseParty].append({"id": uuid.uuid4(), "case_id": case.id, "person_id": person["id"],
                                         "role": role, "relationship_to_subject": relationship,
                                         "position": position})
        default_kind = LocationKind.ADDRESS if kind == PanelKind.ASB else LocationKind.HOTSPOT
        for location_answers in answers.get("locations") or []:
            location = self.people.location(location_answers, default_kind, created_at)
            self.rows[Location].append(location)
            self.rows[CaseLocation].append({"id": uuid.uuid4(), "case_id": case.id, "location_id": location["id"]})

    def _hearing(self, case):
        """The case's agenda item at its meeting, heard, and the actions agreed there."""
        ctx, rng, today = self.ctx, self.rng, self.plan.today
        item_id, heard_at = uuid.uuid4(), _at(case.heard_on, 11)
        self.rows[AgendaItem].append({
            "id": item_id, "meeting_id": case.meeting_id, "case_id": case.id, "position": case.position,
            "status": ItemStatus.HEARD, "heard_at": heard_at, "version": 1,
            "created_at": _at(case.heard_on - dt.timedelta(days=5), 9),
            "risk_summary": encrypt_value(RISK_SUMMARY, str, "agenda_items", "risk_summary", item_id, ring=self.ring),
            "minute": encrypt_value(MINUTE, str, "agenda_items", "minute", item_id, ring=self.ring)})
        for _ in range(rng.choices((0, 1, 2), (0.05, 0.75, 0.20))[0]):
            action_id = uuid.uuid4()
            due = case.heard_on + dt.timedelta(days=ctx.action_due_days)
            status, closed_at = ActionStatus.OPEN, None
            if case.closed_on or (due < today and rng.random() < 0.85):
                status = rng.choice([ActionStatus.DONE] * 8 + [ActionStatus.NOT_POSSIBLE])
                last = min(due, case.closed_on or due, today - dt.timedelta(days=1))
                closed_at = _at(max(case.heard_on + dt.timedelta(days=1), last - dt.timedelta(days=rng.randint(0, 10))),
                                15)
            self.rows[Action].append({
                "id": action_id, "case_id": case.id, "panel_id": self.plan.panel.id, "agenda_item_id": item_id,
                "owner_agency_id": rng.choice(ctx.member_agencies), "due_on": due, "status": status,
                "closed_at": closed_at, "last_chased_at": None, "version": 1, "created_at": heard_at,
                "description": encrypt_value(rng.choice(ACTIONS), str, "actions", "description", action_id,
                                             ring=self.ring),
                "named_person": None})
            self.rows[ActionUpdate].append({"id": uuid.uuid4(), "action_id": action_id, "user_id": ctx.chair,
                                            "at": heard_at, "kind": UpdateKind.CREATED, "status": ActionStatus.OPEN,
                                            "note": None})
            if closed_at:
                self.rows[ActionUpdate].append({"id": uuid.uuid4(), "action_id": action_id,
                                                "user_id": ctx.manager, "at": closed_at,
                                                "kind": UpdateKind.COMPLETED, "status": status, "note": None})

    def tables(self, dialect):
        """[(table name, column names, rows as tuples)] of the batch, parents first, each value as the
        column's type binds it for the database (SQLAlchemy's bind processors, applied here so that a
        worker process does it and the main one only inserts; bytes as they are)."""
        tables = []
        for model in self.TABLES:
            rows = self.rows[model]
            if not rows:
                tables.append((model.__tablename__, (), []))
                continue
            columns = [column for column in model.__table__.columns if column.name in rows[0]]
            processors = [None if isinstance(column.type, LargeBinary) else column.type.bind_processor(dialect)
                          for column in columns]
            names = [column.name for column in columns]
            steps = list(zip(names, processors))
            tables.append((model.__tablename__, tuple(names), [
                tuple(row[name] if process is None or row[name] is None else process(row[name])
                      for name, process in steps) for row in rows]))
        return tables


def _insert(tables):
    """Insert a batch's rows (Builder.tables), table by table, in the session's transaction; returns
    {table name: rows inserted}. On PostgreSQL by COPY (psycopg's Copy adapts each value as a bound
    parameter would be): a third of the server's and this process's time of a multi-row INSERT."""
    connection = db.session.connection()
    quote = connection.dialect.identifier_preparer.quote
    copying = connection.dialect.name == "postgresql"
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    for name, columns, rows in tables:
        if not rows:
            continue
        target = f"{quote(name)} ({', '.join(quote(c) for c in columns)})"
        if copying:
            with connection.connection.driver_connection.cursor() as cursor, \
                    cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            connection.exec_driver_sql(f"INSERT INTO {target} VALUES ({', '.join([marker] * len(columns))})", rows)
    return {name: len(rows) for name, _, rows in tables}


# What the worker processes build from: set before they are forked, so that each has the plan, the
# context and the keys without a database connection or a key ring of its own.
_JOB = None


def build_batch(number, start, end):
    """The rows of the plan's cases[start:end], from a random stream of the batch's own (the same whether
    built here or in a worker process)."""
    plan, ctx, people, seed, dialect = _JOB
    builder = Builder(plan, ctx, people, random.Random(f"{seed}-{number}"))
    for case in plan.cases[start:end]:
        builder.add(case)
    return builder.tables(dialect)


def _build_in_worker(job):
    return build_batch(*job)


def _batches(plan, ctx, people, seed, batch_size, workers):
    """The batches' rows in order, built here or by `workers` forked processes while this one inserts."""
    global _JOB
    if workers > 1:  # small loads too in several batches, so that every worker has some
        batch_size = min(batch_size, max(250, -(-len(plan.cases) // (4 * workers))))
    jobs = [(number, start, min(start + batch_size, len(plan.cases)))
            for number, start in enumerate(range(0, len(plan.cases), batch_size))]
    _JOB = (plan, ctx, people, seed, db.engine.dialect)
    try:
        if workers <= 1 or len(jobs) < 2 or "fork" not in multiprocessing.get_all_start_methods():
            for job in jobs:
                yield build_batch(*job)
            return
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_build_in_worker, jobs)
    finally:
        _JOB = None


def _context(panel):
    """The people and agencies the cases are referred, screened and heard by."""
    from marac.users.models import User

    users = db.session.execute(select(User).where(User.is_active.is_(True)).order_by(User.email)).scalars().all()
    manager = next((u for u in users if Role.MANAGER in panel.roles_of(u)), None)
    chair = next((u for u in users if Role.CHAIR in panel.roles_of(u)), None) or manager
    referrers = [u for u in users if panel.can_refer(u) and panel.is_member(u.agency_id)]
    if manager is None or not referrers:
        raise ValueError("the panel needs a manager and a member agency's referrer")
    members = [m.agency_id for m in panel.members]
    police = next((m.agency_id for m in panel.members if m.agency.kind == AgencyKind.POLICE), None)
    return SimpleNamespace(manager=manager.id, chair=chair.id, referrers=[u.id for u in referrers],
                           member_agencies=members, police=police, action_due_days=panel.action_due_days)


def _insert_meetings(panel, plan, ctx):
    """The plan's meetings, held with their minutes final, and their registers."""
    rng = plan.rng
    meetings, attendances = [], []
    for meeting in plan.meetings:
        day = meeting.day
        due = add_working_days(day, -panel.agenda_lead_days)
        meetings.append({
            "id": meeting.id, "panel_id": panel.id, "meets_on": day, "starts_at": dt.time(meeting.hour, 0),
            "status": MeetingStatus.HELD, "agenda_published_at": _at(due, 9), "agenda_due_on": due,
            "opened_at": _at(day, meeting.hour), "closed_at": _at(day, min(meeting.hour + 5, 23)),
            "minutes_finalised_at": _at(add_working_days(day, panel.minutes_days), 16),
            "minutes_finalised_by_id": ctx.manager, "version": 1, "created_at": _at(day - dt.timedelta(days=60), 9)})
        for member in panel.members:
            status = AttendanceStatus.PRESENT if rng.random() < 0.9 else rng.choice(list(AttendanceStatus))
            attendances.append({"id": uuid.uuid4(), "meeting_id": meeting.id, "agency_id": member.agency_id,
                                "status": status, "is_core": member.is_core})
    for start in range(0, len(meetings), BATCH_SIZE):
        db.session.execute(insert(Meeting.__table__), meetings[start:start + BATCH_SIZE])
    for start in range(0, len(attendances), BATCH_SIZE * 5):
        db.session.execute(insert(Attendance.__table__), attendances[start:start + BATCH_SIZE * 5])
    return len(meetings)


def analyse():
    """Refresh the query planner's statistics, committed: ANALYZE and PRAGMA optimize on SQLite; on
    PostgreSQL VACUUM (ANALYZE), which is what autovacuum does after a bulk insert on any server that
    runs it, done at once: the rows' visibility is then recorded, so that an index-only scan (the
    lists' capped counts, a case's status by id) reads no table page, as on a database in service.
    Measured straight after a seed without it, PostgreSQL's pages are those of a database nobody has
    vacuumed (the case list at 1,000 cases: 55 ms p50 against 35 vacuumed, on a server with autovacuum
    off)."""
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE"))
        db.session.execute(text("PRAGMA optimize"))
        db.session.commit()
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))


def seed_at_scale(panel, count, seed=None, batch_size=BATCH_SIZE, progress=None, statistics=True, workers=1):
    """Add `count` demo cases to the panel (see the module's docstring), committing each batch: a bulk
    load for the CLI, not a step in someone's request. With workers > 1 the rows are built by that many
    forked processes while this one inserts. Audited as one event; the planner's statistics are refreshed
    at the end (unless statistics=False). Returns a Result."""
    started = time.perf_counter()
    if db.engine.dialect.name == "sqlite":  # a large page cache: the indexes take random inserts
        db.session.execute(text("PRAGMA cache_size = -262144"))
    existing = db.session.execute(select(func.count()).select_from(Case).where(Case.panel_id == panel.id)).scalar()
    seed = 2026 * 1_000_003 + existing if seed is None else seed  # a second run gets other people
    rng = random.Random(seed)
    ctx = _context(panel)
    plan = Plan(panel, count, rng, today_())
    plan.assign_references()
    people = Rows()
    result = Result(meetings=_insert_meetings(panel, plan, ctx))
    db.session.commit()
    done = 0
    for tables in _batches(plan, ctx, people, seed, batch_size, workers):
        counts = _insert(tables)
        db.session.commit()
        result.cases += counts[Case.__tablename__]
        result.people += counts[Person.__tablename__]
        result.actions += counts[Action.__tablename__]
        done += counts[Case.__tablename__]
        if progress:
            progress(done, time.perf_counter() - started)
    result.repeats = sum(1 for case in plan.cases if case.repeat_of_id)
    record("demo.seeded_at_scale", object_type="panels", object_id=str(panel.id),
           detail={"cases": result.cases, "panel_kind": str(panel.kind), "repeats": result.repeats,
                   "actions": result.actions, "meetings": result.meetings})
    db.session.commit()
    result.seconds = time.perf_counter() - started
    if statistics:
        analysed = time.perf_counter()
        analyse()
        result.analyse_seconds = time.perf_counter() - analysed
    return result
