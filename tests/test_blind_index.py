"""Blind indexes: normalisation, separate keys per index, lookups, and `flask keys reindex`.

No application model declares a blind index yet, so these tests declare a scratch model (name and
date of birth encrypted, plus their blind index) on a metadata of its own, create its table inside
the test's transaction (rolled back with it, on SQLite and PostgreSQL alike), and add it to the
Encrypted and BlindIndex registries only for the tests that use it.
"""
import datetime as dt
import hashlib

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import String

from marac.core import blind_index as bi
from marac.core.blind_index import BlindIndex, blind_index, matching, normalise_text
from marac.core.crypto import DecryptionError, Encrypted
from marac.core.db import UUIDPrimaryKey
from marac.extensions import db
from marac.keys import rotation
from marac.keys.models import DataKey
from marac.keys.services import index_purpose, primary_key

INDEX = "scratch_name_dob"


class ScratchBase(DeclarativeBase):
    pass


class ScratchPerson(UUIDPrimaryKey, ScratchBase):
    __tablename__ = "scratch_people"

    label: Mapped[str] = mapped_column(String(20), nullable=False)
    name = Encrypted(str)
    dob = Encrypted(dt.date)
    name_dob_index = BlindIndex(INDEX, lambda person: (person.name, person.dob))


ScratchBase.registry.configure()  # its own registry: no application query configures it
# Declaring the class registered it globally; keep it out of every other test's registries.
SCRATCH_ENCRYPTED = [(ScratchPerson, "name"), (ScratchPerson, "dob")]
for entry in SCRATCH_ENCRYPTED:
    Encrypted.registry.remove(entry)
SCRATCH_INDEXED = [entry for entry in BlindIndex.registry if entry.model is ScratchPerson]
for entry in SCRATCH_INDEXED:
    BlindIndex.registry.remove(entry)


@pytest.fixture
def people(monkeypatch):
    """Make a scratch person: people("José O'Brien", date(1980, 2, 1))."""
    ScratchBase.metadata.create_all(db.session.connection())
    monkeypatch.setattr(Encrypted, "registry", Encrypted.registry + SCRATCH_ENCRYPTED)
    monkeypatch.setattr(BlindIndex, "registry", BlindIndex.registry + SCRATCH_INDEXED)

    def make(name, dob, label="p"):
        person = ScratchPerson(label=label)
        person.name, person.dob = name, dob
        person.name_dob_index = blind_index(INDEX, name, dob)
        db.session.add(person)
        db.session.flush()
        return person

    return make


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["keys", *args])


def find(name, dob):
    db.session.expire_all()
    return db.session.execute(select(ScratchPerson).where(
        matching(ScratchPerson.name_dob_index, INDEX, name, dob))).scalars().all()


def index_keys(name=INDEX):
    return db.session.execute(select(DataKey).where(DataKey.purpose == index_purpose(name))
                              .order_by(DataKey.created_at)).scalars().all()


# --- normalisation and the tag ---------------------------------------------------------------

@pytest.mark.parametrize("variant", ["jose obrien", "José  O'Brien", "JOSÉ O’BRIEN", "Jose\u0301 O-Brien",
                                     " j.o.s.e. o brien ", "ＪＯＳＥ ＯＢＲＩＥＮ"])
def test_normalisation_makes_spelling_variants_equal(variant):
    assert normalise_text(variant) == "joseobrien"
    assert blind_index("test_names", variant) == blind_index("test_names", "jose obrien")


def test_different_values_differ():
    assert blind_index("test_names", "Jose OBrien") != blind_index("test_names", "Josie OBrien")
    assert normalise_text("Straße") == "strasse"


def test_parts_are_combined_unambiguously_and_dates_are_iso():
    assert bi.message("Ann", dt.date(1980, 2, 1)) == b"ann\x1f1980-02-01"
    assert blind_index("test_pair", "ab", "c") != blind_index("test_pair", "a", "bc")
    assert blind_index("test_pair", "Ann", dt.date(1980, 2, 1)) != blind_index("test_pair", "Ann", dt.date(1980, 1, 2))
    with pytest.raises(TypeError):
        blind_index("test_pair", "Ann", dt.datetime(1980, 2, 1, 12, 0))
    with pytest.raises(TypeError):
        blind_index("test_pair", "Ann", 1980)


def test_missing_or_empty_part_gives_no_value():
    assert blind_index("test_pair", "Ann", None) is None
    assert blind_index("test_pair", "'-.", dt.date(1980, 2, 1)) is None


def test_tag_is_16_hex_characters_of_a_keyed_hash():
    value = blind_index("test_names", "Jose OBrien")
    assert len(value) == 16 and int(value, 16) >= 0
    assert value != hashlib.sha256(b"joseobrien").hexdigest()[:16]


def test_each_index_name_has_its_own_key_created_on_first_use():
    assert index_keys("test_one") == []
    one = blind_index("test_one", "Jose OBrien")
    two = blind_index("test_two", "Jose OBrien")
    assert one != two
    (key_one,) = index_keys("test_one")
    (key_two,) = index_keys("test_two")
    assert key_one.id != key_two.id and key_one.is_primary and key_one.kek_id == primary_key().kek_id
    assert key_one.wrapped_key != key_two.wrapped_key
    assert blind_index("test_one", "jose o'brien") == one  # the same key next time
    assert len(index_keys("test_one")) == 1


def test_index_names_are_checked():
    with pytest.raises(ValueError):
        blind_index("Bad Name", "x")
    with pytest.raises(ValueError):
        BlindIndex("x" * 60, lambda obj: ())


# --- lookups ---------------------------------------------------------------------------------

def test_matching_finds_the_row_by_a_variant_spelling(people):
    jose = people("José O'Brien", dt.date(1980, 2, 1), "jose")
    people("Josie O'Brien", dt.date(1980, 2, 1), "josie")
    people("José O'Brien", dt.date(1981, 2, 1), "other dob")
    assert [p.label for p in find("jose obrien", dt.date(1980, 2, 1))] == ["jose"]
    assert find("JOSÉ  O’BRIEN", dt.date(1980, 2, 1))[0].id == jose.id
    assert find("Nobody", dt.date(1980, 2, 1)) == []
    assert find("jose obrien", None) == []
    assert find(" ", dt.date(1980, 2, 1)) == []


def test_matching_before_any_key_exists_matches_nothing(people):
    assert index_keys() == []
    assert find("anyone", dt.date(2000, 1, 1)) == []
    assert index_keys() == []  # a lookup does not create the key


def test_encrypted_value_moved_to_another_column_does_not_decrypt(people):
    person = people("Ann Smith", dt.date(1980, 2, 1))
    table = ScratchPerson.__table__
    row = db.session.execute(select(table.c.name, table.c.dob).where(table.c.id == person.id)).one()
    db.session.execute(update(table).where(table.c.id == person.id).values(name=row.dob, dob=row.name))
    db.session.expire_all()
    person = db.session.get(ScratchPerson, person.id)
    with pytest.raises(DecryptionError) as caught:
        person.name
    assert (caught.value.table, caught.value.column) == ("scratch_people", "name")
    with pytest.raises(DecryptionError):
        person.dob


# --- reindex ---------------------------------------------------------------------------------

def test_reindex_moves_every_value_to_a_new_key_then_retires_the_old(people, cli, clock):
    names = [("José O'Brien", dt.date(1980, 2, 1)), ("Ann Smith", dt.date(1975, 6, 30)),
             ("Bob Jones", dt.date(1990, 12, 24)), ("Cy Twombly", dt.date(1928, 4, 25))]
    persons = [people(name, dob, name) for name, dob in names]
    no_dob = people("Dee No-Date", None, "no dob")
    before = {p.id: p.name_dob_index for p in persons}
    (old_key,) = index_keys()

    result = cli("reindex", INDEX, "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "recomputed: 4," in result.output and "Older key kept" in result.output
    db.session.expire_all()
    after = {p.id: db.session.get(ScratchPerson, p.id).name_dob_index for p in persons}
    assert all(after[pid] != before[pid] and len(after[pid]) == 16 for pid in after)
    assert db.session.get(ScratchPerson, no_dob.id).name_dob_index is None
    old, new = index_keys()
    assert old.id == old_key.id and old.retired_at is None and new.is_primary and not old.is_primary
    for name, dob in names:  # lookups work throughout
        assert [p.label for p in find(name, dob)] == [name]

    # A process that had not noticed the new key wrote a value under the old one.
    stale = bi.tag(app_ring_key(old.id), bi.message("Ann Smith", dt.date(1975, 6, 30)))
    db.session.execute(update(ScratchPerson.__table__).where(ScratchPerson.__table__.c.id == persons[1].id)
                       .values(name_dob_index=stale))

    clock(minutes=11)
    result = cli("reindex", INDEX)
    assert result.exit_code == 0, result.output
    assert "resuming" in result.output and "recomputed: 1," in result.output and "Retired 1" in result.output
    old, new = index_keys()
    assert old.retired_at is not None and new.retired_at is None
    for name, dob in names:
        assert [p.label for p in find(name, dob)] == [name]
    assert index_keys()[1].id == new.id

    result = cli("reindex")  # all indexes; a fresh rotation again
    assert result.exit_code == 0 and "new key" in result.output
    assert len(index_keys()) == 3


def app_ring_key(key_id):
    from marac.core.crypto import keyring

    return dict((kid, key) for kid, key, _ in keyring().index_keys(INDEX))[key_id]


def test_reindex_batch_skips_a_row_changed_since_it_was_read(people):
    person = people("Ann Smith", dt.date(1975, 6, 30))
    rotation.start_reindex(INDEX)
    (entry,) = rotation.index_entries(INDEX)
    table = ScratchPerson.__table__

    def parts_while_the_app_renames(instance):
        """After the batch read the row, the application renames the person (new index value)."""
        renamed = blind_index(INDEX, "Ann Jones", dt.date(1975, 6, 30))
        db.session.execute(update(table).where(table.c.id == instance.id).values(name_dob_index=renamed))
        return entry.parts(instance)

    result = rotation.reindex_batch(entry._replace(parts=parts_while_the_app_renames))
    assert result.skipped == 1 and result.done == 0
    assert [p.id for p in find("Ann Jones", dt.date(1975, 6, 30))] == [person.id]
    assert find("Ann Smith", dt.date(1975, 6, 30)) == []


def test_reindex_of_an_unknown_index_is_refused(cli):
    result = cli("reindex", "no_such_index")
    assert result.exit_code == 1 and "no column is declared" in result.output


def test_rotation_covers_every_registered_encrypted_column(people, cli):
    person = people("José O'Brien", dt.date(1980, 2, 1))
    assert cli("rotate").exit_code == 0
    db.session.expire_all()
    person = db.session.get(ScratchPerson, person.id)
    assert (person.name, person.dob) == ("José O'Brien", dt.date(1980, 2, 1))
    usage = rotation.values_by_key()
    assert usage[("scratch_people", "dob")] == {primary_key().id: 1}
    assert cli("verify").exit_code == 0
    status = cli("status").output
    assert "scratch_people.name: 1" in status and "scratch_people.dob: 1" in status
    assert f"scratch_people.name_dob_index: 1 values in blind index {INDEX}" in status
