"""Emails: who gets one, what it says, and sending it after the commit.

An email says one sentence, built here from the kind, the panel's name, a meeting date and a count,
and gives a link that requires sign-in. It never holds personal data, not even a case reference: a
reference ties a person to a MARAC, MACE or ASB panel, and an email lives on in mailboxes, forwards
and printouts beyond the system's access rules, retention and audit. Callers cannot pass free text.

`notify` runs in the caller's transaction: it records an audit event per recipient (their user id and
the kind, no content) and hands the messages to a background job that starts only after the commit
(jobs.enqueue_after_commit), so a step that rolls back sends nothing. The job sends by SMTP
(MAIL_SERVER, MAIL_PORT, MAIL_TLS: "starttls", "ssl" or "none", MAIL_USERNAME, MAIL_PASSWORD,
MAIL_FROM) or, with MAIL_BACKEND "log" (development, and tests that do not listen), writes them to the log.
"""
import smtplib
import ssl
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import delete, select

from marac.audit.services import record
from marac.core.formatting import format_date
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.jobs.services import enqueue_after_commit
from marac.notifications.models import OPTIONAL_KINDS, EmailKind, EmailOptOut, SentReminder

SEND = "marac.notifications.services:send_emails"
_QUIET = "marac_without_emails"

SUBJECTS = {
    EmailKind.AGENDA_PUBLISHED: "Agenda published: {panel}",
    EmailKind.RESEARCH_DUE: "Research due in two working days: {panel}",
    EmailKind.ACTIONS_OVERDUE: "Overdue actions this week: {panel}",
    EmailKind.PACK_READY: "Meeting pack ready: {panel}",
    EmailKind.MINUTES_READY: "Minutes final: {panel}",
    EmailKind.ACTION_CHASED: "An action has been chased: {panel}",
}


def _plural(count, one, many):
    return f"{count} {one if count == 1 else many}"


def sentence(kind, panel, on=None, count=None):
    """What the email says: the kind with the panel's name, a meeting date and a count only."""
    day = format_date(on) if on else ""
    if kind == EmailKind.AGENDA_PUBLISHED:
        return (f"The agenda for the {panel} meeting on {day} has been published. Please research "
                f"the cases listed for your agency and share what you hold before the meeting.")
    if kind == EmailKind.RESEARCH_DUE:
        return (f"Your agency's research for {_plural(count, 'case', 'cases')} on the agenda of the {panel} "
                f"meeting on {day} has not been shared yet. It is due in two working days.")
    if kind == EmailKind.ACTIONS_OVERDUE:
        return (f"Your agency has {_plural(count, 'action', 'actions')} from the {panel} past their due date. "
                f"Please update them or record their completion.")
    if kind == EmailKind.PACK_READY:
        return f"The meeting pack for the {panel} meeting on {day} is ready to download."
    if kind == EmailKind.MINUTES_READY:
        return f"The minutes and action plan of the {panel} meeting on {day} are final."
    if kind == EmailKind.ACTION_CHASED:
        return (f"The {panel} manager has chased an action your agency owns. Please update it "
                f"or record its completion.")
    raise ValueError(f"no email of kind {kind!r}")


def compose(kind, link, panel, on=None, count=None):
    """(subject, body) of an email of this kind."""
    organisation = current_app.config["ORGANISATION_NAME"]
    lines = [sentence(kind, panel, on, count), "", f"Sign in to see it: {link}", "",
             "This email holds no details of any case: they are in the case system only, for those "
             "who may see them."]
    if kind in OPTIONAL_KINDS:
        lines += ["", "You can turn off emails like this on your account page: "
                  + absolute_link("notifications.preferences")]
    lines += ["", organisation]
    return SUBJECTS[kind].format(panel=panel), "\n".join(lines) + "\n"


def absolute_link(endpoint, **values):
    """The full address of a page (MARAC_BASE_URL and the page's path), in a request or not."""
    path = current_app.url_map.bind("").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def opted_out(user, kind):
    """Whether the user has turned off this kind (never a kind that is always sent)."""
    return kind in OPTIONAL_KINDS and db.session.execute(select(EmailOptOut.id).where(
        EmailOptOut.user_id == user.id, EmailOptOut.kind == kind)).first() is not None


def recipients_for(kind, users):
    """The users this kind of email goes to: active, each once, not those who turned it off."""
    chosen, seen = [], set()
    for user in users:
        if user.id in seen or not user.is_active or not user.email or opted_out(user, kind):
            continue
        seen.add(user.id)
        chosen.append(user)
    return chosen


@contextmanager
def without_emails():
    """Make history without telling anyone: inside, notify() sends and records nothing (the demo
    data's past meetings, whose emails would tell of what happened long ago)."""
    session = db.session()
    previous = session.info.get(_QUIET)
    session.info[_QUIET] = True
    try:
        yield
    finally:
        session.info[_QUIET] = previous


def notify(kind, users, link, panel, on=None, count=None, actor=None):
    """Email this kind to the users (recipients_for) after the commit; audit each. Returns the users."""
    if db.session().info.get(_QUIET):
        return []
    chosen = recipients_for(kind, users)
    if not chosen:
        return []
    subject, body = compose(kind, link, panel, on, count)
    for user in chosen:
        record("email.sent", actor, user, detail={"kind": str(kind)})
    enqueue_after_commit(SEND, [[user.email, subject, body] for user in chosen])
    return chosen


def remind_once(kind, about_id, period, users, link, panel, on=None, count=None):
    """notify() for a scheduled reminder, to each user at most once per (kind, about, period): the
    SentReminder row, written in the same transaction, is the proof it went."""
    already = set(db.session.execute(select(SentReminder.user_id).where(
        SentReminder.kind == kind, SentReminder.about_id == about_id, SentReminder.period == period)).scalars())
    chosen = notify(kind, [u for u in users if u.id not in already], link, panel, on, count)
    for user in chosen:
        db.session.add(SentReminder(kind=kind, about_id=about_id, period=period, user_id=user.id, sent_at=utcnow()))
    db.session.flush()
    return chosen


def opted_out_kinds(user):
    """The optional kinds the user has turned off."""
    return set(db.session.execute(select(EmailOptOut.kind).where(EmailOptOut.user_id == user.id)).scalars())


def set_preferences(actor, wanted):
    """Keep the optional kinds in `wanted` on and turn the others off, for the actor's own account."""
    wanted = {EmailKind(kind) for kind in wanted if kind in OPTIONAL_KINDS}
    off = {kind for kind in OPTIONAL_KINDS if kind not in wanted}
    db.session.execute(delete(EmailOptOut).where(EmailOptOut.user_id == actor.id))
    for kind in sorted(off):
        db.session.add(EmailOptOut(user_id=actor.id, kind=kind, created_at=utcnow()))
    db.session.flush()
    record("email.preferences_changed", actor, actor, detail={"off": sorted(str(kind) for kind in off)})


# --- the job ---------------------------------------------------------------------------------

def send_emails(messages):
    """The job: send each [address, subject, body] (one SMTP connection), or log them (MAIL_BACKEND
    "log"). Reads no database. A failure is logged by the exception's class only and raised."""
    config = current_app.config
    if config.get("MAIL_BACKEND", "smtp") == "log":
        for address, subject, body in messages:
            current_app.logger.info("email to %s\nSubject: %s\n\n%s", address, subject, body)
        return len(messages)
    if not config.get("MAIL_SERVER"):
        raise RuntimeError("MAIL_SERVER is not set: emails cannot be sent")
    with _connect(config) as smtp:
        for address, subject, body in messages:
            smtp.send_message(_message(config, address, subject, body))
    return len(messages)


def _message(config, address, subject, body):
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = address
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    message.set_content(body)
    return message


def _connect(config):
    """An SMTP connection: implicit TLS ("ssl"), STARTTLS ("starttls", the default) or plain ("none",
    for a relay on the same host), logged in when MAIL_USERNAME is set."""
    host, port, tls = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config.get("MAIL_TLS", "starttls")
    timeout = config.get("MAIL_TIMEOUT", 30)
    if tls == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if config.get("MAIL_USERNAME"):
        smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    return smtp
