"""MACE cases for tests, made through the services as the referral form and screening make them."""
import datetime as dt

from marac.cases import questions
from marac.cases import services as cases
from marac.cases.models import ScreeningDecision
from marac.core.timeutil import today
from marac.extensions import db
from marac.people.models import LocationKind

SHADY = {"first_names": "Shady", "last_name": "Fakeadult", "aliases": "", "date_of_birth": "1995-07-08"}
PARADE = {"kind": LocationKind.HOTSPOT, "description": "Pretend chicken shop", "address": "9 Imaginary Parade", "postcode": "ZZ3 3ZZ"}


def mace_answers(first="Youngo", last="Fakechild", dob=dt.date(2010, 2, 3), on=None, persons=(SHADY,),
                 locations=(PARADE,), indicator="1"):
    """A complete MACE referral in the form's answer shape (indicator "1" for each of ten: medium risk)."""
    on = on or today()
    return {
        "referrer_name": "Rita Referrer-Test", "referrer_role": "Teacher", "referrer_contact": "0207 000 0000",
        "referred_on": on.isoformat(),
        "young_person": {"first_names": first, "last_name": last, "aliases": "", "date_of_birth": dob.isoformat(),
                         "postcode": "ZZ2 2ZZ", "school": "Pretend Academy"},
        "exploitation_types": [questions.ExploitationType.CRIMINAL],
        "indicators": {key: indicator for key, _ in questions.MACE_INDICATORS},
        "persons_of_concern": [dict(p) for p in persons], "locations": [dict(loc) for loc in locations],
        "concerns": "Invented concerns for testing.",
    }


def mace_case(referrer, manager, panel, accepted_on=None, accept=True, **answers):
    """A MACE referral sent by `referrer` and (when `accept`) accepted by `manager` on `accepted_on`."""
    case = cases.new_case(referrer, panel)
    on = accepted_on or today()
    cases.save_answers(referrer, case, mace_answers(on=min(on, today()), **answers), submit=True)
    if accept:
        cases.screen(manager, case, ScreeningDecision.ACCEPT, "", True, None)
        case.screened_at = dt.datetime.combine(on, dt.time(11), tzinfo=dt.timezone.utc)
    db.session.flush()
    return case
