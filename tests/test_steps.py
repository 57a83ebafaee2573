"""The one refusal and the one commit (marac/core/steps.py), seen from outside: a refused step leaves
nothing behind and says why on the form; a request commits once, at the edge, and only when it succeeds."""
from flask import get_flashed_messages
from wtforms import StringField

from marac.agencies.models import Agency, AgencyKind
from marac.audit.models import AuditEvent
from marac.cases.models import Case
from marac.core.forms import ConfirmForm
from marac.core.steps import STALE, StaleEdit, StepRefused, attempt, check_version
from marac.extensions import db
from tests.helpers import audit_events, post_form, row_count, signed_in


class NameForm(ConfirmForm):
    name = StringField("Name")


def _add_agency_then(refusal):
    """A step that writes an agency, then refuses."""
    def step():
        db.session.add(Agency(name="Refused Agency", short_name="RA", kind=AgencyKind.OTHER))
        db.session.flush()
        raise refusal
    return step


def test_a_refused_step_leaves_nothing_and_puts_the_reason_on_its_field(app):
    with app.test_request_context("/", method="POST"):
        form = NameForm(meta={"csrf": False})
        outcome = attempt(_add_agency_then(StepRefused("That name is taken", field="name")), form=form)
        assert not outcome and not outcome.stale
        assert form.name.errors == ["That name is taken"] and form.form_errors == []
        assert row_count(Agency, Agency.name == "Refused Agency") == 0


def test_a_stale_edit_says_so_on_the_form_and_a_step_without_a_form_says_it_in_a_banner(app):
    with app.test_request_context("/", method="POST"):
        form = NameForm(meta={"csrf": False})
        outcome = attempt(_add_agency_then(StaleEdit()), form=form)
        assert outcome.stale and form.form_errors == [STALE]
        assert not attempt(_add_agency_then(StepRefused("Not now")))
        assert get_flashed_messages(with_categories=True) == [("error", "Not now")]
        assert row_count(Agency, Agency.name == "Refused Agency") == 0


def test_a_taken_step_returns_its_value(app):
    with app.test_request_context("/", method="POST"):
        outcome = attempt(lambda a, b: a + b, 2, b=3)
        assert outcome and outcome.value == 5


def test_check_version_refuses_a_missing_or_old_version_and_skips_none(world):
    case = world.case
    check_version(case, str(case.version))
    check_version(case, None)  # not from a form: the demo data and the CLI
    for posted in ("", str(case.version + 1), "x"):
        try:
            check_version(case, posted)
        except StaleEdit:
            continue
        raise AssertionError(f"version {posted!r} was accepted")


def test_a_successful_request_commits_its_audit_events_at_the_edge(app, world):
    client = signed_in(app, world.users["manager"])
    before = row_count(AuditEvent, AuditEvent.action == "case.viewed")
    assert client.get(f"/cases/{world.case.id}").status_code == 200
    assert len(audit_events("case.viewed", str(world.case.id))) == 1
    assert row_count(AuditEvent, AuditEvent.action == "case.viewed") == before + 1


def test_an_error_response_rolls_back(app, world):
    client = signed_in(app, world.users["representative"])
    before = row_count(AuditEvent)
    assert client.get(f"/panels/{world.panel.id}/actions").status_code == 403  # manager only
    assert row_count(AuditEvent) == before


def test_opening_the_referral_page_creates_no_case(app, world):
    client = signed_in(app, world.users["representative"])
    before = row_count(Case)
    assert client.get(f"/panels/{world.panel.id}/referrals/new").status_code == 200
    response = post_form(client, f"/panels/{world.panel.id}/referrals/new", {"action": "submit"})
    assert response.status_code == 200 and "There is a problem" in response.get_data(as_text=True)
    assert row_count(Case) == before
