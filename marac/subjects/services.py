"""Subject access and rectification: record a request and follow it to its deadline, find the person
across the panels the handler may reach (blind indexes only), confirm their cases, build the response
(a background job: one redacted PDF and its JSON, encrypted), hand it out, and correct the person's
details across their cases. Every step is audited; no event names the person.
"""
import datetime as dt
import hashlib
import json
import uuid

from flask import g
from sqlalchemy import exists, false, or_, select, true
from sqlalchemy.orm import selectinload

from marac.audit.services import record, record_read
from marac.cases.models import Case, CaseParty, CaseStatus, PartyRole
from marac.cases.services import next_reference, party_answers, rectify_party
from marac.core.pdf import render_pdf, sha256_of
from marac.core.steps import StepRefused, check_version
from marac.core.timeutil import today, utcnow
from marac.extensions import db
from marac.jobs.services import checkpoint, enqueue
from marac.packs.services import page_count
from marac.people.models import PersonName
from marac.people.services import name_dob_condition
from marac.sharing.models import Category
from marac.sharing.services import disclose
from marac.subjects import content
from marac.subjects.models import (MAX_EXTENSION_MONTHS, OPEN_STATUSES, Rectification, Requester, RequestStatus,
                                   ResponseStatus, SubjectCase, SubjectRequest, SubjectResponse, is_dpo,
                                   managed_panel_ids, may_reach, response_deadline)
from marac.users.models import User

REFERENCE_PREFIX = "SAR"
RUN_RESPONSE = "marac.subjects.services:run_response"
# The roles for which telling the person what is held would tell them of a case against them, or put
# the victim at risk: not offered by default (DPA 2018 Sch. 2 para. 2, crime; Sch. 3 para. 5 serious harm).
CAUTION_ROLES = frozenset({PartyRole.PERPETRATOR, PartyRole.RESPONDENT, PartyRole.PERSON_OF_CONCERN})
# The details a rectification may correct, as the referral's answers name them.
RECTIFIABLE = ("first_names", "last_name", "aliases", "date_of_birth", "address", "postcode", "phone")


def _require_handler(actor):
    if not (is_dpo(actor) or managed_panel_ids(actor)):
        raise StepRefused("Only the data protection officer or a panel manager handles subject access requests.")


# --- the log ---------------------------------------------------------------------------------

def record_request(actor, received_on, requester, identity_checked, subject_name, date_of_birth, notes):
    """Record a subject access request received on that day; its deadline follows from it."""
    _require_handler(actor)
    if requester not in Requester.values():
        raise StepRefused("Say who made the request.", field="requester")
    if received_on is None or received_on > today():
        raise StepRefused("Enter the day the request was received, today or earlier.", field="received_on")
    request = SubjectRequest(reference=next_reference(REFERENCE_PREFIX, received_on.year), received_on=received_on,
                             requester=requester, identity_checked=bool(identity_checked),
                             status=RequestStatus.RECEIVED, due_on=response_deadline(received_on),
                             created_by_id=actor.id)
    request.subject_name = subject_name.strip()
    request.subject_date_of_birth = date_of_birth
    request.notes = (notes or "").strip() or None
    db.session.add(request)
    db.session.flush()
    record("subjects.request_recorded", actor, request,
           detail={"requester": str(requester), "identity_checked": bool(identity_checked),
                   "due_on": request.due_on.isoformat()})
    return request


def visible_requests(actor):
    """A condition on SubjectRequest: the requests the actor may see (SubjectRequest.can_view)."""
    if is_dpo(actor):
        return true()
    managed = managed_panel_ids(actor)
    if not managed:
        return false()
    about_their_cases = exists().where(SubjectCase.request_id == SubjectRequest.id,
                                       SubjectCase.case_id == Case.id, Case.panel_id.in_(managed))
    return or_(SubjectRequest.created_by_id == actor.id, about_their_cases)


def request_log(actor, page, per_page=25):
    """One page of the requests the actor may see: open ones first, the nearest deadline first."""
    stmt = (select(SubjectRequest).where(visible_requests(actor))
            .order_by(SubjectRequest.status.notin_(list(OPEN_STATUSES)), SubjectRequest.due_on,
                      SubjectRequest.reference))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def log_viewed(actor, requests):
    """Declare the log page (it names the subjects of the requests on it)."""
    return record_read("subjects.log_viewed", actor, object_type="subject_requests",
                       recipient_agency_id=actor.agency_id, detail={"requests": [str(r.id) for r in requests]})


def request_viewed(actor, request, links):
    """Declare the request page: the subject as given, and the cases confirmed (identity of each)."""
    cases = [link.case for link in links]
    if cases:
        return disclose(actor, cases, {Category.IDENTITY}, action="subjects.request_viewed", target=request,
                        purpose="subject access request", shown_of=_identity_of(links))
    return record_read("subjects.request_viewed", actor, request, recipient_agency_id=actor.agency_id)


def _identity_of(links):
    roles = {link.case_id: link.role for link in links}

    def shown(case):
        role = roles.get(case.id)
        return {Category.IDENTITY} | ({Category.CHILDREN} if role in (PartyRole.CHILD, PartyRole.YOUNG_PERSON) else set())
    return shown


def set_status(actor, request, status, reason, expected_version):
    """Move the request on: in progress, fulfilled, refused (with the reason) or withdrawn."""
    check_version(request, expected_version)
    if status not in RequestStatus.values() or status == RequestStatus.RECEIVED:
        raise StepRefused("Choose where the request stands.", field="status")
    reason = (reason or "").strip() or None
    if status == RequestStatus.REFUSED and not reason:
        raise StepRefused("Give the reason for refusing the request, as the requester will be told it.",
                          field="reason")
    if status == RequestStatus.FULFILLED and not any(r.status == ResponseStatus.DONE for r in request.responses):
        raise StepRefused("Build the response before marking the request fulfilled.", field="status")
    request.status = status
    request.status_reason = reason
    request.closed_at = None if status in OPEN_STATUSES else utcnow()
    db.session.flush()
    record("subjects.request_status", actor, request, detail={"status": str(status), "reason_given": bool(reason)})
    return request


def extend(actor, request, months, reason, expected_version):
    """Extend the deadline by up to two further months in all, with the reason (complex or many requests)."""
    check_version(request, expected_version)
    if not request.is_open:
        raise StepRefused("Only an open request can be extended.")
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        raise StepRefused("Extend by one or two months.", field="months")
    if request.extension_months + months > MAX_EXTENSION_MONTHS:
        raise StepRefused("A request can be extended by two further months at most.", field="months")
    reason = (reason or "").strip()
    if not reason:
        raise StepRefused("Give the reason for the extension: the requester must be told it.", field="reason")
    request.extension_months += months
    request.extension_reason = reason
    request.due_on = response_deadline(request.received_on, request.extension_months)
    db.session.flush()
    record("subjects.request_extended", actor, request,
           detail={"months": request.extension_months, "due_on": request.due_on.isoformat()})
    return request


# --- finding the person ----------------------------------------------------------------------

def find_matches(actor, request):
    """The cases the actor may reach on which someone has the request's name (or an alias) and date of
    birth: [(case, party)], newest first. Blind indexes only; the search is audited (how many found,
    never who) and what it shows is declared."""
    if request.subject_name is None or request.subject_date_of_birth is None:
        return []
    stmt = (select(Case, CaseParty).join(CaseParty, CaseParty.case_id == Case.id)
            .join(PersonName, PersonName.person_id == CaseParty.person_id)
            .where(Case.status != CaseStatus.DRAFT,
                   name_dob_condition(request.subject_name, request.subject_date_of_birth))
            .order_by(Case.referred_on.desc(), CaseParty.position))
    if not is_dpo(actor):
        stmt = stmt.where(Case.panel_id.in_(managed_panel_ids(actor) or {uuid.uuid4()}))
    found = []
    for case, party in db.session.execute(stmt.options(selectinload(Case.panel))).unique():
        if may_reach(actor, case) and (case.id, party.position) not in {(c.id, p.position) for c, p in found}:
            found.append((case, party))
    shown = {case.id: party.role for case, party in found}
    if found:
        disclose(actor, [case for case, _ in found], {Category.IDENTITY}, action="subjects.searched", target=request,
                 purpose="subject access search", detail={"results": len(found)},
                 shown_of=lambda case: {Category.IDENTITY} | (
                     {Category.CHILDREN} if shown[case.id] in (PartyRole.CHILD, PartyRole.YOUNG_PERSON) else set()))
    else:
        record_read("subjects.searched", actor, request, recipient_agency_id=actor.agency_id, detail={"results": 0})
    return found


def match_key(case, party):
    """The value of a match's checkbox: the case and the person's place in it (no personal data)."""
    return f"{case.id}:{party.position}"


def confirm_cases(actor, request, chosen, expected_version):
    """Keep, as the subject's, the matches chosen (match_key values) among those the actor finds now;
    links the actor may not reach are left as they are. Returns the links of the request."""
    check_version(request, expected_version)
    if not request.is_open:
        raise StepRefused("This request is closed: its cases cannot change.")
    matches = {match_key(case, party): (case, party) for case, party in find_matches(actor, request)}
    unknown = set(chosen) - set(matches)
    if unknown:
        raise StepRefused("Those cases are no longer among the matches. Look at the matches again.")
    kept = {link.case_id: link for link in request.cases}
    chosen_cases = {}
    for key in chosen:
        case, party = matches[key]
        if case.id in chosen_cases:
            raise StepRefused("Choose one person on each case.", field="cases")
        chosen_cases[case.id] = party
    for case_id, link in list(kept.items()):
        if may_reach(actor, link.case) and case_id not in chosen_cases:
            request.cases.remove(link)
    for case_id, party in chosen_cases.items():
        link = kept.get(case_id)
        if link is None:
            request.cases.append(SubjectCase(case_id=case_id, role=party.role, position=party.position,
                                             confirmed_by_id=actor.id))
        else:
            link.role, link.position, link.confirmed_by_id = party.role, party.position, actor.id
    if request.status == RequestStatus.RECEIVED:
        request.status = RequestStatus.IN_PROGRESS
    db.session.flush()
    record("subjects.cases_confirmed", actor, request, detail={"cases": sorted(str(c) for c in chosen_cases)})
    return request.cases


def links_for(actor, request):
    """The confirmed cases of the request the actor may reach (SubjectCase.can_view), by referral date."""
    links = [link for link in request.cases if link.can_view(actor)]
    return sorted(links, key=lambda link: (link.case.referred_on or utcnow().date(), link.case.reference or ""))


# --- the response ----------------------------------------------------------------------------

def build_response(actor, request):
    """Start building the response over the confirmed cases the actor may reach (a background job)."""
    links = links_for(actor, request)
    if not links:
        raise StepRefused("Confirm which cases are the subject's before building the response.")
    running = [r for r in request.responses if r.status in (ResponseStatus.QUEUED, ResponseStatus.RUNNING)]
    if running:
        raise StepRefused("A response is being built already.")
    response = SubjectResponse(request_id=request.id, status=ResponseStatus.QUEUED, requested_by_id=actor.id,
                               case_ids=[str(link.case_id) for link in links])
    db.session.add(response)
    db.session.flush()
    record("subjects.response_requested", actor, response, detail={"request_id": str(request.id),
                                                                    "cases": len(links)})
    enqueue(RUN_RESPONSE, str(response.id))
    return response


def run_response(response_id):
    """The job: write the response (content.document), render the PDF, store both encrypted with
    their SHA-256, and audit it. A failure is recorded by the exception's class only."""
    response = db.session.get(SubjectResponse, uuid.UUID(str(response_id)))
    if response is None or response.status != ResponseStatus.QUEUED:
        return None
    actor = db.session.get(User, response.requested_by_id) if response.requested_by_id else None
    response.status, response.started_at = ResponseStatus.RUNNING, utcnow()
    checkpoint()
    try:
        wanted = set(response.case_ids)
        links = sorted((link for link in response.request.cases if str(link.case_id) in wanted),
                       key=lambda link: (link.case.referred_on or today(), link.case.reference or ""))
        doc = content.document(response.request, links, utcnow())
        pdf = render_pdf(content.html(doc), title=content.title(response.request))
        data = json.dumps(doc, ensure_ascii=False, indent=2).encode()
    except Exception as error:  # recorded by its class; the message might quote the record
        return _fail(response, actor, error)
    response.pdf, response.json_document = pdf, data
    response.sha256, response.json_sha256 = sha256_of(pdf), hashlib.sha256(data).hexdigest()
    response.pages, response.redactions = page_count(pdf), doc["redaction_count"]
    response.status, response.finished_at = ResponseStatus.DONE, utcnow()
    db.session.flush()
    record("subjects.response_built", actor, response,
           detail={"request_id": str(response.request_id), "sha256": response.sha256,
                   "json_sha256": response.json_sha256, "pages": response.pages, "redactions": response.redactions,
                   "cases": len(links)})
    checkpoint()
    return response


def _fail(response, actor, error):
    response_id = response.id
    if g.get("marac_job"):
        db.session.rollback()
    response = db.session.get(SubjectResponse, response_id)
    response.status, response.finished_at, response.error = ResponseStatus.FAILED, utcnow(), type(error).__name__[:64]
    db.session.flush()
    record("subjects.response_failed", actor, response, detail={"error": response.error})
    checkpoint()
    return response


FORMATS = {"pdf": "application/pdf", "json": "application/json"}


def file_name(response, fmt):
    """OFFICIAL-SENSITIVE_subject-access_<reference>_<built date>.<pdf|json>: no personal data."""
    return f"{content.MARKING}_subject-access_{response.request.reference}_{response.finished_at.date().isoformat()}.{fmt}"


def download(actor, response, fmt):
    """The response as PDF or JSON for the actor: (file name, bytes, media type). Audited with the
    file's SHA-256, and declared: every category of each case it covers went to the actor."""
    if fmt not in FORMATS:
        raise StepRefused("Choose the PDF or the JSON.")
    if response.status != ResponseStatus.DONE or response.pdf is None:
        raise StepRefused("This response has not been built.")
    data = response.pdf if fmt == "pdf" else response.json_document
    digest = response.sha256 if fmt == "pdf" else response.json_sha256
    disclose(actor, response.covered_cases(), set(Category), action="subjects.response_downloaded", target=response,
             purpose="subject access response", shown_of=lambda case: set(Category),
             detail={"format": fmt, "sha256": digest, "request_id": str(response.request_id)})
    return file_name(response, fmt), data, FORMATS[fmt]


# --- rectification ---------------------------------------------------------------------------

def current_details(actor, request):
    """[(link, {detail: value})] of the subject on each confirmed case the actor may reach, as recorded."""
    rows = []
    for link in links_for(actor, request):
        found = party_answers(link.case, link.position)
        details = {key: (found[1].get(key) if found else None) for key in RECTIFIABLE}
        if isinstance(details["date_of_birth"], str) and details["date_of_birth"]:
            details["date_of_birth"] = dt.date.fromisoformat(details["date_of_birth"])
        rows.append((link, details))
    return rows


def rectify(actor, request, changes, reason, expected_version):
    """Correct the subject's details (`changes`: {detail: new value}, only those given) on every
    confirmed case the actor may reach, in one step: each case keeps the old values, encrypted, in its
    history, and its people and blind indexes are rebuilt. The request then carries the corrected name
    and date of birth, so the person is found under them. Returns the Rectification."""
    check_version(request, expected_version)
    reason = (reason or "").strip()
    if not reason:
        raise StepRefused("Give the reason for the correction.", field="reason")
    changes = {key: value for key, value in changes.items() if key in RECTIFIABLE and value not in (None, "")}
    if not changes:
        raise StepRefused("Enter at least one corrected detail.")
    links = links_for(actor, request)
    if not links:
        raise StepRefused("Confirm which cases are the subject's before correcting their details.")
    stored = {key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in changes.items()}
    fields, touched = set(), 0
    for link in links:
        changed = rectify_party(actor, link.case, link.position, stored)
        if changed:
            touched += 1
            fields |= {path.rsplit(".", 1)[-1] for path in changed}
    if not touched:
        raise StepRefused("Those are the details already recorded: nothing was changed.")
    if "first_names" in changes or "last_name" in changes:
        found = party_answers(links[0].case, links[0].position)
        corrected = " ".join(part for part in (found[1].get("first_names"), found[1].get("last_name")) if part)
        request.subject_name = corrected or request.subject_name
    if "date_of_birth" in changes:
        request.subject_date_of_birth = changes["date_of_birth"]
    correction = Rectification(request_id=request.id, user_id=actor.id, at=utcnow(), fields=sorted(fields),
                               case_count=touched)
    correction.reason = reason
    request.rectifications.append(correction)
    db.session.flush()
    record("subjects.rectified", actor, correction, detail={"request_id": str(request.id), "fields": sorted(fields),
                                                            "cases": touched})
    return correction


def rectify_viewed(actor, request, links):
    """Declare the correction page: the subject's contact and identity details on each case."""
    return disclose(actor, [link.case for link in links], {Category.IDENTITY, Category.CONTACT},
                    action="subjects.rectify_viewed", target=request, purpose="subject rectification",
                    shown_of=lambda case: {Category.IDENTITY, Category.CONTACT})
