"""Meeting packs: build (render once per redaction profile, encrypted), hand out (stamp per person,
record the issue), trace a leaked copy, and delete packs when they expire.

A render serves every agency whose kind may see the same categories (its profile); the manager and
the chair get the full profile. Each download stamps the render with the recipient agency, the person
and a new pack code, and records a PackIssue with the SHA-256 of the stamped file.
"""
import hashlib
import io
import json
import multiprocessing
import re
import secrets
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import timedelta

import pikepdf
from flask import current_app, g
from sqlalchemy import select

from marac.actions.models import Action
from marac.audit.services import record
from marac.core.formatting import format_date
from marac.core.pdf import render_pdf, sha256_of, stamp
from marac.core.steps import StepRefused
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.jobs.services import checkpoint, enqueue
from marac.meetings.models import Meeting
from marac.packs import content
from marac.packs.models import FULL_PROFILE, BuildStatus, PackBuild, PackIssue, PackKind, PackRender
from marac.panels.models import PanelRole, Role
from marac.sharing.models import Category
from marac.sharing.services import disclose, rules_for
from marac.users.models import User

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L or U/V confusion
CODE_LENGTH = 8
CODE_PREFIX = "PK-"
MARKING = "OFFICIAL-SENSITIVE"
RUN_BUILD = "marac.packs.services:run_build"


# --- profiles and fingerprints ---------------------------------------------------------------

def profile_code(categories):
    """The stored name of a profile: its category codes sorted and joined by ","; "full" for FULL."""
    if categories == content.FULL:
        return FULL_PROFILE
    return ",".join(sorted(str(c) for c in categories))


def agency_profile(panel, agency, rules=None):
    """The profile code of what the agency's kind may see on the panel under its current rules."""
    rules = rules if rules is not None else rules_for(panel)
    return profile_code(frozenset(rules.get(agency.kind, set())))


def fingerprint(meeting, kind):
    """A hash of what a pack of this kind is built from: the agenda (items, order, statuses and
    versions, the cases' versions), the minutes (versions and amendments), actions, the register,
    the panel's sharing rules and the publication and finalisation times. Reads no encrypted field."""
    items = sorted(meeting.items, key=lambda i: i.position)
    case_ids = [i.case_id for i in items]
    actions = db.session.execute(select(Action.id, Action.status, Action.version).where(
        Action.case_id.in_(case_ids)).order_by(Action.id)).all() if case_ids else []
    rules = rules_for(meeting.panel)
    panel = meeting.panel
    source = {
        "kind": str(kind),
        "meeting": [meeting.version, meeting.meets_on.isoformat(), meeting.starts_at.isoformat(),
                    _iso(meeting.agenda_published_at), _iso(meeting.minutes_finalised_at)],
        "panel": [panel.name, panel.confidentiality_statement, panel.kind],
        "items": [[str(i.id), i.position, i.status, i.version, i.case.version, len(i.amendments)] for i in items],
        "actions": [[str(a.id), a.status, a.version] for a in actions],
        "members": sorted([str(m.agency_id), m.agency.kind, m.agency.name] for m in panel.members),
        "rules": {str(k): sorted(str(c) for c in v) for k, v in sorted(rules.items())},
    }
    if kind == PackKind.MINUTES:
        source["register"] = sorted([str(a.agency_id), a.status] for a in meeting.attendances)
        source["attendees"] = sorted([str(a.id), a.name, _iso(a.confidentiality_agreed_at)]
                                     for a in meeting.attendees)
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


def _iso(value):
    return value.isoformat() if value is not None else None


def is_stale(render):
    """Whether the meeting changed (agenda, rules, minutes) since the render was built."""
    return render.fingerprint != fingerprint(render.meeting, render.kind)


# --- building --------------------------------------------------------------------------------

def why_not_build(meeting, kind):
    """Why this kind of pack cannot be built now, or None."""
    if kind == PackKind.AGENDA and not meeting.is_published:
        return "Publish the agenda before building the agenda packs."
    if kind == PackKind.MINUTES and not meeting.minutes_locked:
        return "Finalise the minutes before building the minutes packs."
    if not meeting.items:
        return "No cases are listed at this meeting."
    return None


def build_packs(actor, meeting, kind):
    """Start building every pack of this kind for the meeting (the manager's button): a PackBuild,
    and a job that renders the full pack and one pack per profile. Returns the build."""
    if kind not in PackKind.values():
        raise StepRefused("Choose the agenda or the minutes packs.", field="kind")
    problem = why_not_build(meeting, kind)
    if problem:
        raise StepRefused(problem)
    running = db.session.execute(select(PackBuild).where(
        PackBuild.meeting_id == meeting.id, PackBuild.kind == kind,
        PackBuild.status.in_([BuildStatus.QUEUED, BuildStatus.RUNNING]))).scalars().first()
    if running is not None:
        raise StepRefused("These packs are being built already.")
    build = PackBuild(meeting_id=meeting.id, kind=kind, status=BuildStatus.QUEUED,
                      requested_by_id=actor.id if actor else None)
    db.session.add(build)
    db.session.flush()
    record("packs.build_requested", actor, build, detail={"kind": str(kind), "meeting_id": str(meeting.id)})
    enqueue(RUN_BUILD, str(build.id))
    return build


def _plan(meeting, kind):
    """[(profile code, recipient label, html)] for the full pack and each profile of member agencies."""
    loaded = content.load(meeting)  # one read of the meeting for every profile

    def write(categories, label):
        return content.pack_html(kind, meeting, categories, label, loaded=loaded)

    grouped = {profile_code(categories): (categories, agencies)
               for categories, agencies in content.profiles(meeting).items()}
    # Agencies whose kind may see everything share the full render with the manager and the chair.
    full_agencies = grouped.pop(FULL_PROFILE, (None, []))[1]
    full_label = "; ".join([content.FULL_LABEL, *(a.name for a in full_agencies)])
    plan = [(FULL_PROFILE, full_label, write(content.FULL, full_label))]
    for code, (categories, agencies) in grouped.items():
        label = content.recipient_label(agencies)
        plan.append((code, label, write(categories, label)))
    return plan


def _render_all(documents, processes):
    """Yield (index, pdf bytes) for each (html, title), as each finishes: side by side in `processes`
    spawned processes (WeasyPrint uses one core per document), or one after another."""
    if processes <= 1 or len(documents) <= 1:
        for index, (html, title) in enumerate(documents):
            yield index, render_pdf(html, title=title)
        return
    context = multiprocessing.get_context("spawn")  # never fork a process that holds connections
    with ProcessPoolExecutor(max_workers=min(processes, len(documents)), mp_context=context) as pool:
        # render_pdf itself goes to the process: the child imports the PDF module, not the whole app
        futures = {pool.submit(render_pdf, html, title=title): index for index, (html, title) in enumerate(documents)}
        for future in as_completed(futures):
            yield futures[future], future.result()


def page_count(pdf):
    """The number of pages of a PDF."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def run_build(build_id):
    """The job: render the meeting's packs of the build's kind, store them encrypted, record progress,
    audit each render, then supersede the renders of earlier builds. The database is not held while
    rendering: the HTML is written first, then rendered, and each render is stored as it finishes."""
    build = db.session.get(PackBuild, _uuid(build_id))
    if build is None or build.status != BuildStatus.QUEUED:
        return None
    meeting, kind = build.meeting, build.kind
    actor = db.session.get(User, build.requested_by_id) if build.requested_by_id else None
    build.status, build.started_at = BuildStatus.RUNNING, utcnow()
    try:
        plan = _plan(meeting, kind)
        source = fingerprint(meeting, kind)
    except Exception as error:
        return _fail(build, actor, error)
    build.total = len(plan)
    title = content.pack_title(meeting, kind)
    retention = timedelta(days=meeting.panel.pack_retention_days)
    meeting_id, build_key = meeting.id, build.id
    checkpoint()
    processes = current_app.config.get("PACKS_RENDER_PROCESSES", 1)
    try:
        for index, pdf in _render_all([(html, title) for _, _, html in plan], processes):
            now = utcnow()
            render = PackRender(meeting_id=meeting_id, build_id=build_key, kind=kind, profile=plan[index][0],
                                sha256=sha256_of(pdf), pages=page_count(pdf), fingerprint=source, built_at=now,
                                built_by_id=actor.id if actor else None, expires_at=now + retention)
            render.pdf = pdf
            db.session.add(render)
            build.done += 1
            db.session.flush()
            record("packs.built", actor, render, detail={"kind": str(kind), "profile": render.profile,
                                                         "sha256": render.sha256, "pages": render.pages,
                                                         "meeting_id": str(meeting_id)})
            checkpoint()
    except Exception as error:
        return _fail(build, actor, error)
    now = utcnow()
    earlier = db.session.execute(select(PackRender).where(
        PackRender.meeting_id == meeting_id, PackRender.kind == kind, PackRender.build_id != build_key,
        PackRender.superseded_at.is_(None))).scalars().all()
    for old in earlier:
        old.superseded_at, old.pdf = now, None  # an out-of-date pack is not kept
    build.status, build.finished_at = BuildStatus.DONE, now
    db.session.flush()
    record("packs.build_finished", actor, build, detail={"kind": str(kind), "renders": build.done,
                                                         "superseded": len(earlier)})
    checkpoint()
    return build


def _fail(build, actor, error):
    """Mark the build failed with the error's class (never its message), and drop its partial renders."""
    build_id = build.id
    if g.get("marac_job"):  # a background job: undo the unfinished work (inline, the edge rolls back)
        db.session.rollback()
    build = db.session.get(PackBuild, build_id)
    for render in db.session.execute(select(PackRender).where(PackRender.build_id == build_id)).scalars():
        db.session.delete(render)
    build.status, build.finished_at, build.error = BuildStatus.FAILED, utcnow(), type(error).__name__[:64]
    db.session.flush()
    record("packs.build_failed", actor, build, detail={"error": build.error})
    checkpoint()
    return build


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


# --- reading ---------------------------------------------------------------------------------

def latest_build(meeting, kind):
    """The most recent build of this kind for the meeting, or None."""
    return db.session.execute(select(PackBuild).where(PackBuild.meeting_id == meeting.id, PackBuild.kind == kind)
                              .order_by(PackBuild.created_at.desc()).limit(1)).scalar_one_or_none()


def current_renders(meeting, kind):
    """The renders of this kind that may still be handed out (held, not superseded, not expired)."""
    return db.session.execute(select(PackRender).where(
        PackRender.meeting_id == meeting.id, PackRender.kind == kind, PackRender.superseded_at.is_(None),
        PackRender.deleted_at.is_(None), PackRender.expires_at > utcnow())
        .order_by(PackRender.built_at.desc())).scalars().all()


def entitled_profile(user, meeting, rules=None):
    """The profile of the packs the user may have: full for the manager and the chair, their agency's
    for a representative of a member agency once the agenda is published; None for anyone else. Pass
    the panel's `rules` when asking for several meetings of one panel, to read them once."""
    panel = meeting.panel
    roles = panel.roles_of(user)
    if roles & {Role.MANAGER, Role.CHAIR}:
        return FULL_PROFILE
    if Role.REPRESENTATIVE in roles and panel.is_member(user.agency_id) and meeting.can_view(user):
        return agency_profile(panel, user.agency, rules)
    return None


def minutes_categories(user, meeting):
    """What the final minutes show the user (Meeting.can_read_minutes): everything to the manager and the
    chair, as their full pack does; to a representative, what their agency's kind may see."""
    if meeting.panel.roles_of(user) & {Role.MANAGER, Role.CHAIR}:
        return set(content.FULL)
    return set(rules_for(meeting.panel).get(user.agency.kind, set()))


def read_minutes(actor, meeting):
    """The final minutes and action plan as the actor may read them on screen: the minutes pack's
    content for their categories, declared (a sharing record per case and category shown)."""
    categories = minutes_categories(actor, meeting)
    loaded = content.load(meeting)
    disclose(actor, [item.case for item in loaded.items], categories, action="minutes.read", target=meeting,
             purpose="final minutes read", shown_of=lambda case: categories)
    return content.minutes_context(meeting, categories, actor.agency.name, loaded)


def pack_for(user, meeting, kind):
    """The render the user may download for this meeting and kind, or None (no right, or none built)."""
    profile = entitled_profile(user, meeting)
    if profile is None:
        return None
    return next((r for r in current_renders(meeting, kind) if r.profile == profile), None)


def meeting_packs(meeting, user):
    """What the meeting page says about packs, per kind: the user's pack, and for the manager the
    latest build, whether the packs are out of date and why a build cannot start."""
    is_manager = meeting.can_manage(user)
    profile = entitled_profile(user, meeting)
    if not (is_manager or profile is not None):
        return None
    kinds = []
    for kind in PackKind:
        renders = current_renders(meeting, kind)
        render = next((r for r in renders if r.profile == profile), None)
        kinds.append({"kind": kind, "render": render, "build": latest_build(meeting, kind) if is_manager else None,
                      "stale": is_stale(renders[0]) if is_manager and renders else False,
                      "built": is_manager and bool(renders),
                      "problem": why_not_build(meeting, kind) if is_manager else None})
    return {"is_manager": is_manager, "kinds": kinds,
            "full_by_role": bool(meeting.panel.roles_of(user) & {Role.MANAGER, Role.CHAIR})}


def build_progress(build):
    """[(recipient, agencies, status label)] per profile of the build: built, building or waiting."""
    meeting = build.meeting
    done = {r.profile for r in build.renders}
    rows = [(content.FULL_LABEL, [], FULL_PROFILE)]
    for categories, agencies in content.profiles(meeting).items():
        code = profile_code(categories)
        if code != FULL_PROFILE:
            rows.append((", ".join(a.short_name for a in agencies), agencies, code))
        else:
            rows[0] = (content.FULL_LABEL, agencies, FULL_PROFILE)
    result = []
    for label, agencies, code in rows:
        if code in done:
            status = BuildStatus.DONE
        elif build.status == BuildStatus.FAILED:
            status = BuildStatus.FAILED
        elif build.status == BuildStatus.RUNNING:
            status = BuildStatus.RUNNING
        else:
            status = BuildStatus.QUEUED if build.status != BuildStatus.DONE else BuildStatus.DONE
        result.append({"label": label, "agencies": agencies, "status": status})
    return result


def packs_for_user(user):
    """The packs the user may download now, newest meeting first: [(meeting, render)]."""
    panel_ids = select(PanelRole.panel_id).where(PanelRole.user_id == user.id)
    renders = db.session.execute(select(PackRender).join(Meeting, PackRender.meeting_id == Meeting.id).where(
        Meeting.panel_id.in_(panel_ids), PackRender.superseded_at.is_(None), PackRender.deleted_at.is_(None),
        PackRender.expires_at > utcnow()).order_by(Meeting.meets_on.desc(), PackRender.kind,
                                                   PackRender.built_at.desc())).scalars().all()
    rules, profiles, found, seen = {}, {}, [], set()
    for render in renders:  # newest render first within each meeting and kind
        meeting = render.meeting
        if meeting.id not in profiles:
            panel_rules = rules.setdefault(meeting.panel_id, rules_for(meeting.panel))
            profiles[meeting.id] = entitled_profile(user, meeting, panel_rules)
        key = (meeting.id, render.kind)
        if render.profile == profiles[meeting.id] and key not in seen:
            seen.add(key)
            found.append((meeting, render))
    return found


# --- handing out -----------------------------------------------------------------------------

def new_code():
    """A fresh pack code: "PK-" and 8 characters of an unambiguous alphabet, from `secrets`."""
    while True:
        code = CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.execute(select(PackIssue.id).where(PackIssue.code == code)).first() is None:
            return code


def file_name(render, agency, code):
    """OFFICIAL-SENSITIVE_<PANELKIND>_<date>_<kind>_<agency short name>_<code>.pdf: no personal data."""
    short = re.sub(r"[^A-Za-z0-9-]+", "-", agency.short_name).strip("-") or "Agency"
    return f"{MARKING}_{render.meeting.panel.kind}_{render.meeting.meets_on.isoformat()}_{render.kind}_{short}_{code}.pdf"


def stamp_lines(agency, user, code, issued_at):
    """What is written on every page of an issued copy."""
    return [MARKING, agency.name, user.full_name, f"Pack {code}", f"Issued {format_date(issued_at, 'date')}"]


def issue_pack(actor, render):
    """Hand the render to the actor: stamp it for them and their agency, record the issue and audit the
    download (pack code and SHA-256). Returns (file name, bytes)."""
    if not render.is_available or render.expires_at <= utcnow() or render.pdf is None:
        raise StepRefused("This pack is no longer available. Ask the panel manager to build it again.")
    now = utcnow()
    code = new_code()
    agency = actor.agency
    stamped = stamp(render.pdf, stamp_lines(agency, actor, code, now))
    digest = sha256_of(stamped)
    issue = PackIssue(code=code, render_id=render.id, agency_id=agency.id, user_id=actor.id, issued_at=now,
                      sha256=digest)
    db.session.add(issue)
    db.session.flush()
    shows = set(Category) if render.profile == FULL_PROFILE else content.profile_of(render.profile.split(","))
    disclose(actor, [item.case for item in render.meeting.items], shows, action="packs.downloaded", target=render,
             purpose="meeting pack", detail={"code": code, "sha256": digest, "kind": render.kind,
                                             "profile": render.profile, "issue_id": str(issue.id)})
    return file_name(render, agency, code), stamped


def trace(code_or_sha256):
    """The issues a leaked copy comes from: by its pack code, or by the SHA-256 of the file."""
    needle = code_or_sha256.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", needle):
        where = PackIssue.sha256 == needle.lower()
    else:
        code = needle.upper()
        where = PackIssue.code == (code if code.startswith(CODE_PREFIX) else CODE_PREFIX + code)
    return db.session.execute(select(PackIssue).where(where).order_by(PackIssue.issued_at)).scalars().all()


def circulation(meeting):
    """Every copy of the meeting's packs handed out, newest first: the manager's circulation record."""
    return db.session.execute(select(PackIssue).join(PackRender, PackIssue.render_id == PackRender.id).where(
        PackRender.meeting_id == meeting.id).order_by(PackIssue.issued_at.desc())).scalars().all()


def expire_packs(now=None):
    """Delete the PDFs of renders past their expiry (the row, its hash and its issues stay, for
    tracing). Returns how many were deleted."""
    now = now or utcnow()
    expired = db.session.execute(select(PackRender).where(
        PackRender.expires_at <= now, PackRender.deleted_at.is_(None))).scalars().all()
    for render in expired:
        render.pdf, render.deleted_at = None, now
    db.session.flush()
    if expired:
        record("packs.expired", None, object_type="pack_renders", detail={"count": len(expired)})
    return len(expired)
