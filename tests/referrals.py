"""Form data for referrals, as a browser would post it, with obviously fake people."""
import datetime as dt

from marac.cases import questions


def date_parts(prefix, value):
    if value is None:
        return {f"{prefix}-day": "", f"{prefix}-month": "", f"{prefix}-year": ""}
    return {f"{prefix}-day": str(value.day), f"{prefix}-month": str(value.month), f"{prefix}-year": str(value.year)}


def marac_form(first="Testina", last="Fakeperson", dob=dt.date(1990, 4, 1), aliases="", yes=15,
               criterion="visible_high_risk", referred_on=None, postcode="ZZ1 1ZZ", action="submit", **extra):
    referred_on = referred_on or dt.date.today()
    data = {
        "referrer_name": "Rita Referrer-Test", "referrer_role": "Police officer", "referrer_contact": "0207 000 0000",
        **date_parts("referred_on", referred_on),
        "victim-first_names": first, "victim-last_name": last, "victim-aliases": aliases,
        **date_parts("victim-date_of_birth", dob),
        "victim-address": "1 Pretend Road, Testtown", "victim-postcode": postcode, "victim-phone": "07700 900123",
        "victim-safe_to_call": "no", "victim-language": "English", "victim-gender": "female",
        "victim-ethnic_group": "white_other", "victim-disability": "no", "victim-sexuality": "heterosexual",
        "victim-gp": "Fakeside Surgery",
        "victim_aware": "yes", "victim_consents": "yes", "consent_reason": "",
        "perpetrators-0-first_names": "Perry", "perpetrators-0-last_name": "Fakeabuser", "perpetrators-0-aliases": "",
        **date_parts("perpetrators-0-date_of_birth", dt.date(1985, 1, 2)),
        "perpetrators-0-relationship": "ex_partner", "perpetrators-0-gender": "male",
        "children-0-first_names": "Kiddo", "children-0-last_name": "Fakeperson",
        **date_parts("children-0-date_of_birth", dt.date(2019, 5, 6)), "children-0-lives_with": "victim",
        "criterion": criterion, "judgement_reasons": "", "police_incidents": "1",
        "recent_incident": "Sentinel-narrative: an invented incident for testing.",
        "history": "Invented history.", "crime_reference": "CRIS-TEST-0001", "bail_conditions": "", "orders": "",
        "action": action,
    }
    for number, (key, _) in enumerate(questions.DASH_QUESTIONS):
        data[f"dash-{key}"] = "yes" if number < yes else "no"
    data.update(extra)
    return data


def mace_form(first="Youngo", last="Fakechild", dob=dt.date(2010, 2, 3), action="submit", **extra):
    data = {
        "referrer_name": "Rita Referrer-Test", "referrer_role": "Teacher", "referrer_contact": "rita@example.org",
        **date_parts("referred_on", dt.date.today()),
        "young_person-first_names": first, "young_person-last_name": last, "young_person-aliases": "",
        **date_parts("young_person-date_of_birth", dob), "young_person-postcode": "ZZ2 2ZZ",
        "young_person-school": "Pretend Academy",
        "exploitation_types": ["criminal", "county_lines"],
        "concerns": "Invented concerns for testing.",
        "persons_of_concern-0-first_names": "Shady", "persons_of_concern-0-last_name": "Fakeadult",
        **date_parts("persons_of_concern-0-date_of_birth", dt.date(1995, 7, 8)),
        "locations-0-kind": "hotspot", "locations-0-description": "Pretend chicken shop",
        "locations-0-address": "9 Imaginary Parade", "locations-0-postcode": "ZZ3 3ZZ",
        "action": action,
    }
    for key, _ in questions.MACE_INDICATORS:
        data[f"indicators-{key}"] = "2"
    data.update(extra)
    return data


def asb_form(first="Comp", last="Fakeneighbour", dob=dt.date(1950, 3, 4), action="submit", **extra):
    data = {
        "referrer_name": "Rita Referrer-Test", "referrer_role": "Housing officer", "referrer_contact": "0207 000 0001",
        **date_parts("referred_on", dt.date.today()),
        "complainant-first_names": first, "complainant-last_name": last, "complainant-aliases": "",
        **date_parts("complainant-date_of_birth", dob), "complainant-postcode": "ZZ4 4ZZ",
        "respondents-0-first_names": "Noisy", "respondents-0-last_name": "Fakerespondent",
        "locations-0-kind": "address", "locations-0-address": "Flat 2, Pretend House", "locations-0-postcode": "ZZ5 5ZZ",
        "categories": ["noise", "intimidation"], "description": "Invented behaviour for testing.",
        "needs": ["mental_health"], "interventions": ["warning_letter"], "complaints_6_months": "4",
        "action": action,
    }
    for number, (key, _) in enumerate(questions.ASB_QUESTIONS):
        data[f"vulnerability-{key}"] = "yes" if number < 8 else "no"
    data.update(extra)
    return data
