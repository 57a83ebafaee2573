"""Search as people search: a name that sounds like the one recorded (Double Metaphone of the first
and last words) or that starts with its letters, with the year of birth, found through keyed blind
indexes without decrypting; the index columns hold no name; a match withheld reads as no match."""
import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from marac.agencies.models import AgencyKind
from marac.core.blind_index import name_words, prefix_parts, sound_codes
from marac.extensions import db
from marac.people.models import PersonName
from marac.people.services import build_person, sounds_like_condition
from tests.helpers import audit_events, page_of, post_form, signed_in
from tests.names import FIRST_NAMES, LAST_NAMES, misspellings
from tests.referrals import date_parts, marac_form
from tests.test_cases import case_of, found, normalised, refer, representative_of

INDEX_COLUMNS = ("sound_year_index", "sound_alt_year_index", "sound_pa_year_index", "sound_ap_year_index",
                 "prefix_year_index")


def matches(name, year):
    """The person ids whose name sounds or starts like `name`, with this year of birth."""
    return set(db.session.execute(select(PersonName.person_id).where(sounds_like_condition(name, year))).scalars())


def person(first, last, dob):
    built = build_person({"first_names": first, "last_name": last, "date_of_birth": dob})
    db.session.add(built)
    db.session.flush()
    return built


def test_jon_smyth_born_1985_finds_john_smith():
    john = person("John", "Smith", dt.date(1985, 7, 3))
    assert john.id in matches("Jon Smyth", 1985)
    assert john.id in matches("john  SMITH", 1985)
    assert john.id in matches("J Smi", 1985)  # the first letters
    assert john.id in matches("John Paul Smith", 1985)  # a middle name added
    assert john.id not in matches("Jon Smyth", 1986)  # the year is part of every index
    assert john.id not in matches("Jane Brown", 1985)


@st.composite
def names_and_slips(draw):
    first, last = draw(st.sampled_from(FIRST_NAMES)), draw(st.sampled_from(LAST_NAMES))
    which = draw(st.sampled_from(["first", "last", "both"]))
    typed_first, typed_last = first, last
    if which in ("first", "both") and misspellings(first):
        typed_first = draw(st.sampled_from(misspellings(first)))[1]
    if which in ("last", "both") and misspellings(last):
        typed_last = draw(st.sampled_from(misspellings(last)))[1]
    year = draw(st.integers(min_value=1940, max_value=2020))
    return first, last, year, f"{typed_first} {typed_last}"


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=names_and_slips())
def test_misspellings_are_found_by_the_sound_alike_search(app, case):
    """A doubled consonant written once or a single one doubled, a vowel for another, ph/f, y/i: each
    slip of a generated name (and of both names at once) still finds the person, by sound alone
    (the first letters may differ, so the prefix index is not what finds them)."""
    first, last, year, typed = case
    sought = person(first, last, dt.date(year, 6, 15))
    assert sought.id in matches(typed, year), (first, last, typed, sound_codes(f"{first} {last}"), sound_codes(typed))


def test_the_index_columns_never_hold_a_name_in_plain(app):
    """Read the raw rows: each index is 16 hex characters of HMAC, holding neither the name, its
    phonetic code, its first letters nor the year; the same name and year give the same tag only
    through the key."""
    person("Testina", "Fakeperson", dt.date(1990, 4, 1))
    person("Testeena", "Fakepersun", dt.date(1990, 9, 9))
    rows = db.session.execute(text("SELECT full_name, " + ", ".join(INDEX_COLUMNS) + " FROM person_names")).all()
    assert rows
    plain = {"testina", "fakeperson", "tstn", "fkprsn", "tfak", "1990"}
    for row in rows:
        assert b"Testina" not in bytes(row[0])  # the name itself is encrypted
        for value in row[1:]:
            assert value is None or re.fullmatch(r"[0-9a-f]{16}", value), value
            assert not any(p in (value or "").lower() for p in plain), value
    tags = db.session.execute(text("SELECT sound_year_index FROM person_names")).scalars().all()
    assert len(set(tags)) < len(tags)  # the two sound alike and share the bucket, by design


def test_parts_are_the_first_and_last_words():
    assert name_words("Mary-Jane  O'Brien") == ["maryjane", "obrien"]
    assert prefix_parts("Testina Fakeperson", 1990) == ("t", "fak", "1990")
    assert prefix_parts("Testina", 1990) == (None,) and sound_codes("Testina") is None


# --- the search page -------------------------------------------------------------------------

def sounds_like(client, panel, name, year):
    data = {"reference": "", "name": "", "postcode": "", "sounds_like": name, "birth_year": str(year),
            **date_parts("date_of_birth", None)}
    return post_form(client, f"/panels/{panel.id}/cases/search", data, token_from=f"/panels/{panel.id}/cases")


@pytest.fixture
def rep(app, world):
    return signed_in(app, world.users["representative"])


def test_the_search_page_finds_a_sound_alike_name(app, world, rep):
    case = case_of(refer(rep, world.panel, marac_form()))  # Testina Fakeperson, born 1 April 1990
    manager = signed_in(app, world.users["manager"])
    response = sounds_like(manager, world.panel, "Testeena Fakepersun", 1990)
    assert response.status_code == 200 and found(response, case)
    assert found(sounds_like(manager, world.panel, "T Fak", 1990), case)
    assert not found(sounds_like(manager, world.panel, "Testeena Fakepersun", 1991), case)
    # The exact search stays.
    exact = post_form(manager, f"/panels/{world.panel.id}/cases/search", {
        "reference": "", "name": "Testina Fakeperson", "postcode": "", "sounds_like": "", "birth_year": "",
        **date_parts("date_of_birth", dt.date(1990, 4, 1))}, token_from=f"/panels/{world.panel.id}/cases")
    assert found(exact, case)
    # Recorded as a search by sound, without what was searched for.
    event = audit_events("case.searched")[-1]
    assert event.detail["by"] == "name_dob"
    assert "Testeena" not in str([e.detail for e in audit_events("case.searched")])
    assert {"by": "sounds_like"}.items() <= audit_events("case.searched")[0].detail.items()


def test_the_sound_alike_search_needs_two_words_and_a_year(app, world):
    manager = signed_in(app, world.users["manager"])
    page = page_of(sounds_like(manager, world.panel, "Testina", 1990))
    assert "Enter a first name and a last name, or their first letters" in page
    page = page_of(sounds_like(manager, world.panel, "Testina Fakeperson", ""))
    assert "Search by how a name sounds needs both the name and the year of birth" in page
    assert 'value="Testina Fakeperson"' in page  # what was typed is kept


def test_a_sound_alike_match_withheld_reads_as_no_match(app, world, rep):
    """Adult social care may see identity but not children: a child's name, however spelt, finds
    nothing, and the page reads exactly as before the case existed."""
    adults = signed_in(app, representative_of(world.panel, AgencyKind.ADULT_SOCIAL_CARE))
    miss = sounds_like(adults, world.panel, "Kido Fakepersson", 2019)
    case = case_of(refer(rep, world.panel, marac_form()))  # Kiddo Fakeperson, born 2019, is the child
    hit = sounds_like(adults, world.panel, "Kido Fakepersson", 2019)
    assert normalised(hit) == normalised(miss) and not found(hit, case)
    assert found(sounds_like(adults, world.panel, "Testeena Fakeperson", 1990), case)  # the victim is found
    assert found(sounds_like(signed_in(app, world.users["chair"]), world.panel, "Kido Fakepersson", 2019), case)
    first, second = audit_events("case.searched")[:2]
    assert first.detail == second.detail and first.detail["results"] == 0
