"""Building Person and Location records from referral answers, and finding them by blind index."""
import datetime as dt

from sqlalchemy import or_

from marac.core.blind_index import fill_indexes, matching, prefix_parts, sound_alike_condition
from marac.people.models import Location, Person, PersonName

PERSON_FIELDS = ("first_names", "last_name", "address", "postcode", "phone")
CODED_FIELDS = ("gender", "ethnic_group", "disability", "sexuality")


def split_aliases(text):
    """The names in "Jo Bloggs; Joanne Smith", blanks left out."""
    return [alias.strip() for alias in (text or "").split(";") if alias.strip()]


def age_band(date_of_birth, on):
    """The person's age band on a date ("25-34"), for statistics; None without both dates."""
    if not date_of_birth or not on:
        return None
    age = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    for limit, band in ((16, "0-15"), (18, "16-17"), (25, "18-24"), (35, "25-34"), (45, "35-44"),
                        (55, "45-54"), (65, "55-64")):
        if age < limit:
            return band
    return "65+"


def _date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else value or None


def build_person(answers, on=None, detail_keys=()):
    """A new Person (with its names and blind indexes) from one person's answers."""
    person = Person()
    for field in PERSON_FIELDS:
        value = (answers.get(field) or "").strip() or None
        setattr(person, field, value)
    person.date_of_birth = _date(answers.get("date_of_birth"))
    for field in CODED_FIELDS:
        setattr(person, field, answers.get(field) or None)
    person.age_band = age_band(person.date_of_birth, on)
    person.details = {key: answers[key] for key in detail_keys if answers.get(key) not in (None, "", False)}
    fill_indexes(person)
    set_names(person, person.full_name, split_aliases(answers.get("aliases")))
    return person


def set_names(person, full_name, aliases):
    """Replace the person's names with their name and aliases, each with its blind index."""
    person.names = []
    for is_alias, name in [(False, full_name)] + [(True, alias) for alias in aliases]:
        if not name:
            continue
        entry = PersonName(is_alias=is_alias)
        entry.full_name = name
        person.names.append(entry)  # sets entry.person, which its index declaration reads
        fill_indexes(entry)


def name_dob_condition(name, date_of_birth):
    """Rows of person_names whose name (or alias) and date of birth match, without decrypting."""
    return matching(PersonName.name_dob_index, "person_name_dob", name, date_of_birth)


def sounds_like_condition(name, year):
    """Rows of person_names whose name sounds like this one (Double Metaphone of the first and last
    words) or starts with the same letters (the first name's first, the last name's first three), with
    this year of birth: coarse buckets that hold other people too, found without decrypting."""
    return or_(sound_alike_condition([PersonName.sound_year_index, PersonName.sound_alt_year_index,
                                      PersonName.sound_pa_year_index, PersonName.sound_ap_year_index],
                                     "person_sound_year", name, year),
               matching(PersonName.prefix_year_index, "person_prefix_year", *prefix_parts(name, year)))


def name_indexes(person):
    """The name + date of birth blind indexes of all the person's names."""
    return {n.name_dob_index for n in person.names if n.name_dob_index}


def build_location(answers, kind_default):
    """A new Location from one location's answers. Each case has its own, even at an address another
    case names: what a referrer typed (the description above all) belongs to their case. Cases at
    one address are linked by Location.address_index, and shown linked only under the sharing rules."""
    location = Location(kind=answers.get("kind") or kind_default)
    location.description = (answers.get("description") or "").strip() or None
    location.address = (answers.get("address") or "").strip() or None
    location.postcode = (answers.get("postcode") or "").strip() or None
    return fill_indexes(location)
