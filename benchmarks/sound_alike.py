""""Sounds like" search: how coarse its buckets are, and how many of the rows it returns are not the
person sought (the false-positive rate), over a generated population and over the demo data.

    .venv/bin/python benchmarks/sound_alike.py [population]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/sound_alike.py

A population of people (default 20,000: several years of a large borough's MARAC, MACE and ASB
subjects, perpetrators and children) is made of random first names and surnames from tests/names.py,
drawn as real names are, a few common and many rare (the lists run from the most common down; the
n-th is drawn with weight 1/sqrt(n), so about one surname in thirteen is Smith, Jones or Williams,
as among the people who bear one of these 244 surnames in England), and dates of
birth from 1950 to 2014, through the app's own write path (encrypted names, blind
indexes). Then, for 1,000 people drawn from it, the search is run with a misspelling of their name
(of the sound-preserving kinds; then of any kind) and their year of birth, and the rows returned are
counted: returned, of which the person sought, and others. It prints the false-positive rate (others
/ returned), how often the person was found (recall), and the bucket sizes of each index. Then it
seeds the demo data and prints the bucket sizes there.
"""
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

import datetime as dt  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.demo.services import seed  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.keys.services import init_keys  # noqa: E402
from marac.people.models import PersonName  # noqa: E402
from marac.people.services import build_person, sounds_like_condition  # noqa: E402
from tests.helpers import migrate_fresh, scratch_database_url  # noqa: E402
from tests.names import FIRST_NAMES, LAST_NAMES, any_slips, misspellings  # noqa: E402

SOUGHT = 1000
FIRST_WEIGHTS = [rank ** -0.5 for rank in range(1, len(FIRST_NAMES) + 1)]
LAST_WEIGHTS = [rank ** -0.5 for rank in range(1, len(LAST_NAMES) + 1)]


def buckets(column):
    """Sizes of the non-empty buckets of an index column: (buckets, median, mean, max, share of rows
    in buckets of 10 or more)."""
    sizes = [n for _, n in db.session.execute(
        select(column, func.count()).where(column.is_not(None)).group_by(column)).all()]
    if not sizes:
        return "no rows"
    big = sum(n for n in sizes if n >= 10) / sum(sizes)
    return (f"{len(sizes)} buckets for {sum(sizes)} names: median {statistics.median(sizes):g}, "
            f"mean {statistics.mean(sizes):.1f}, largest {max(sizes)}; {big:.0%} of names in buckets of 10 or more")


def print_buckets(title):
    print(title)
    for label, column in (("sound (primary codes) + year", PersonName.sound_year_index),
                          ("sound (alternate codes) + year", PersonName.sound_alt_year_index),
                          ("sound (primary, alternate) + year", PersonName.sound_pa_year_index),
                          ("first letters + year", PersonName.prefix_year_index),
                          ("exact name + date of birth", PersonName.name_dob_index)):
        print(f"  {label}: {buckets(column)}")


def slipped(rng, name, slips):
    options = slips(name)
    return rng.choice(options)[1] if options and rng.random() < 0.8 else name


def measure(rng, people, slips, label):
    returned = others = hits = 0
    per_search = []
    for person_id, first, last, year in rng.sample(people, SOUGHT):
        typed = f"{slipped(rng, first, slips)} {slipped(rng, last, slips)}"
        rows = db.session.execute(
            select(PersonName.person_id).where(sounds_like_condition(typed, year))).scalars().all()
        returned += len(rows)
        others += sum(1 for r in rows if r != person_id)
        hits += person_id in rows
        per_search.append(len(rows))
    print(f"  {label}: found the person in {hits / SOUGHT:.1%} of {SOUGHT} searches; {returned} rows returned, "
          f"{others} of them not the person sought: false-positive rate {others / max(returned, 1):.1%}; "
          f"rows per search median {statistics.median(per_search):g}, largest {max(per_search)}")


def main():
    population = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    url = scratch_database_url("benchsound", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    migrate_fresh(app)
    rng = random.Random(20261206)
    with app.app_context():
        print(f"database: {db.engine.dialect.name}")
        init_keys()
        start = time.perf_counter()
        people = []
        for n in range(population):
            first, last = rng.choices(FIRST_NAMES, FIRST_WEIGHTS)[0], rng.choices(LAST_NAMES, LAST_WEIGHTS)[0]
            dob = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 65))
            person = build_person({"first_names": first, "last_name": last, "date_of_birth": dob})
            db.session.add(person)
            people.append((person.id, first, last, dob.year))
            if n % 1000 == 999:
                db.session.commit()
        db.session.commit()
        print(f"generated population: {population} people ({len(FIRST_NAMES)} first names x {len(LAST_NAMES)} "
              f"surnames, Zipf-weighted, born 1950-2014), written in {time.perf_counter() - start:.0f} s")
        print_buckets("bucket sizes, generated population:")
        print("false positives, searching by a misspelt name (80% of words slipped) and the year of birth:")
        measure(rng, people, misspellings, "sound-preserving slips (doubled/undoubled, vowel, ph/f, y/i)")
        measure(rng, people, any_slips, "any slip of those kinds, sound-changing ones too")
        measure(rng, people, lambda word: [], "the name spelt right")

    demo_url = scratch_database_url("benchsounddemo", tempfile.mkdtemp())
    demo = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": demo_url})
    migrate_fresh(demo)
    with demo.app_context():
        seed()
        db.session.commit()
        print_buckets("bucket sizes, demo data (flask demo seed):")


if __name__ == "__main__":
    main()
