"""Form data for referrals, as a browser would post it, with obviously fake people."""
import datetime as dt

from marac.cases import questions
from marac.cases.models import Criterion
from marac.core.timeutil import today
from marac.people.models import EthnicGroup, Gender, LocationKind, Sexuality, YesNoUnknown


def date_parts(prefix, value):
    if value is None:
        return {f"{prefix}-day": "", f"{prefix}-month": "", f"{prefix}-year": ""}
    return {f"{prefix}-day": str(value.day), f"{prefix}-month": str(value.month), f"{prefix}-year": str(value.year)}


def marac_form(first="Testina", last="Fakeperson", dob=dt.date(1990, 4, 1), aliases="", yes=15,
               criterion=Criterion.VISIBLE_HIGH_RISK, referred_on=None, postcode="ZZ1 1ZZ", action="submit", **extra):
    referred_on = referred_on or today()
    data = {
        "referrer_name": "Rita Referrer-Test", "referrer_role": "Police officer", "referrer_contact": "0207 000 0000",
        **date_parts("referred_on", referred_on),
        "victim-first_names": first, "victim-last_name": last, "victim-aliases": aliases,
        **date_parts("victim-date_of_birth", dob),
        "victim-address": "1 Pretend Road, Testtown", "victim-postcode": postcode, "victim-phone": "07700 900123",
        "victim-safe_to_call": YesNoUnknown.NO, "victim-language": "English", "victim-gender": Gender.FEMALE,
        "victim-ethnic_group": EthnicGroup.WHITE_OTHER, "victim-disability": YesNoUnknown.NO,
        "victim-sexuality": Sexuality.HETEROSEXUAL,
        "victim-gp": "Fakeside Surgery",
        "victim_aware": YesNoUnknown.YES, "victim_consents": YesNoUnknown.YES, "consent_reason": "",
        "perpetrators-0-first_names": "Perry", "perpetrators-0-last_name": "Fakeabuser", "perpetrators-0-aliases": "",
        **date_parts("perpetrators-0-date_of_birth", dt.date(1985, 1, 2)),
        "perpetrators-0-relationship": questions.Relationship.EX_PARTNER, "perpetrators-0-gender": Gender.MALE,
        "children-0-first_names": "Kiddo", "children-0-last_name": "Fakeperson",
        **date_parts("children-0-date_of_birth", dt.date(2019, 5, 6)), "children-0-lives_with": questions.LivesWith.VICTIM,
        "criterion": criterion, "judgement_reasons": "", "police_incidents": "1",
        "recent_incident": "Sentinel-narrative: an invented incident for testing.",
        "history": "Invented history.", "crime_reference": "CRIS-TEST-0001", "bail_conditions": "", "orders": "",
        "action": action,
    }
    for number, (key, _) in enumerate(questions.DASH_QUESTIONS):
        data[f"dash-{key}"] = YesNoUnknown.YES if number < yes else YesNoUnknown.NO
    data.update(extra)
    return data


def mace_form(first="Youngo", last="Fakechild", dob=dt.date(2010, 2, 3), action="submit", **extra):
    data = {
        "referrer_name": "Rita Referrer-Test", "referrer_role": "Teacher", "referrer_contact": "rita@example.org",
        **date_parts("referred_on", today()),
        "young_person-first_names": first, "young_person-last_name": last, "young_person-aliases": "",
        **date_parts("young_person-date_of_birth", dob), "young_person-postcode": "ZZ2 2ZZ",
        "young_person-school": "Pretend Academy",
        "exploitation_types": [questions.ExploitationType.CRIMINAL, questions.ExploitationType.COUNTY_LINES],
        "concerns": "Invented concerns for testing.",
        "persons_of_concern-0-first_names": "Shady", "persons_of_concern-0-last_name": "Fakeadult",
        **date_parts("persons_of_concern-0-date_of_birth", dt.date(1995, 7, 8)),
        "locations-0-kind": LocationKind.HOTSPOT, "locations-0-description": "Pretend chicken shop",
        "locations-0-address": "9 Imaginary Parade", "locations-0-postcode": "ZZ3 3ZZ",
        "action": action,
    }
    for key, _ in questions.MACE_INDICATORS:
        data[f"indicators-{key}"] = questions.MaceScore.MODERATE
    data.update(extra)
    return data


def asb_form(first="Comp", last="Fakeneighbour", dob=dt.date(1950, 3, 4), action="submit", **extra):
    data = {
        "referrer_name": "Rita Referrer-Test", "referrer_role": "Housing officer", "referrer_contact": "0207 000 0001",
        **date_parts("referred_on", today()),
        "complainant-first_names": first, "complainant-last_name": last, "complainant-aliases": "",
        **date_parts("complainant-date_of_birth", dob), "complainant-postcode": "ZZ4 4ZZ",
        "respondents-0-first_names": "Noisy", "respondents-0-last_name": "Fakerespondent",
        "locations-0-kind": LocationKind.ADDRESS, "locations-0-address": "Flat 2, Pretend House", "locations-0-postcode": "ZZ5 5ZZ",
        "categories": [questions.AsbCategory.NOISE, questions.AsbCategory.INTIMIDATION], "description": "Invented behaviour for testing.",
        "needs": [questions.Need.MENTAL_HEALTH], "interventions": [questions.Intervention.WARNING_LETTER], "complaints_6_months": "4",
        "action": action,
    }
    for number, (key, _) in enumerate(questions.ASB_QUESTIONS):
        data[f"vulnerability-{key}"] = YesNoUnknown.YES if number < 8 else YesNoUnknown.NO
    data.update(extra)
    return data
