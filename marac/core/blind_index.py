"""Blind indexes: find rows by an encrypted value (e.g. name and date of birth) without decrypting.

A blind index column holds a keyed HMAC-SHA256 of the normalised parts, under a key of its own per
index name (a data_keys row with purpose "index:<name>", wrapped by the KEK, created on first use).
Without that key the column reveals nothing and cannot be compared with another system's index.

Declare one in a model and compute it with the one helper:

    name_dob_index = BlindIndex("person_name_dob", lambda person: (person.name, person.dob))
    person.name_dob_index = blind_index("person_name_dob", person.name, person.dob)

and query with the other: ``select(Person).where(matching(Person.name_dob_index, "person_name_dob",
name, dob))``. `flask keys reindex` recomputes every declared column under a new key.

Coarse indexes for "sounds like" search hash less precise parts on purpose: the Double Metaphone
codes of a name's first and last words (sound_parts) or their first letters (prefix_parts), with the
year of birth. Each tag then stands for a bucket of people whose names sound or start alike and who
were born in one year: a lookup returns candidates for a person to check, and the tag, even to someone
holding the table, says only which rows share a bucket, never what the bucket is.
"""
import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from collections import namedtuple

from doublemetaphone import doublemetaphone
from sqlalchemy import String, false, or_
from sqlalchemy.orm import mapped_column

from marac.core.crypto import keyring

# 8 bytes (16 hex characters) of the HMAC. With a million rows, a lookup matches an unrelated row
# by chance with probability about 1e6 / 2^64 ≈ 5e-14, and the chance that any two different rows
# in the table share a tag (birthday bound, n² / 2^65) is about 2.7e-8; either would at worst show
# a candidate that a person then rejects. A short tag also gives away less: without the key it can
# be neither reversed nor linked to another table or system, and it is a quarter of the index size.
TAG_HEX_CHARS = 16
# Normalised parts hold letters and digits only (dates: digits and "-"), so this never occurs in one.
SEPARATOR = "\x1f"
INDEX_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,57}$")  # "index:" + name fits data_keys.purpose

IndexedColumn = namedtuple("IndexedColumn", "model attr index_name parts")


class BlindIndex:
    """Declare a blind-index column: ``x_index = BlindIndex("index_name", parts_of_instance)``.

    Adds a String(16) column of the same name, indexed, and registers it for `flask keys reindex`,
    which calls `parts(instance)` to recompute the value of every row.
    """

    registry = []  # IndexedColumn of every declared blind-index column

    def __init__(self, index_name, parts):
        check_name(index_name)
        self.index_name, self.parts = index_name, parts

    def __set_name__(self, owner, name):
        setattr(owner, name, mapped_column(name, String(TAG_HEX_CHARS), index=True))
        BlindIndex.registry.append(IndexedColumn(owner, name, self.index_name, self.parts))


def check_name(name):
    """The index name, checked to fit the data_keys purpose column (raises ValueError otherwise)."""
    if not INDEX_NAME_RE.match(name):
        raise ValueError(f"a blind index name must match {INDEX_NAME_RE.pattern}")
    return name


def normalise_text(value):
    """Casefolded, without diacritics, punctuation or spaces: "José  O'Brien" -> "joseobrien"."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def normalise_part(value):
    """One part in canonical text form; None if it is missing or has nothing left to compare."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise TypeError("a blind index takes a date, not a datetime")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return normalise_text(value) or None
    raise TypeError(f"a blind index part must be a str or a date, not {type(value).__name__}")


def message(*parts):
    """The bytes the HMAC covers, or None when any part is missing (such a row is not indexed)."""
    normalised = [normalise_part(part) for part in parts]
    if not normalised or None in normalised:
        return None
    return SEPARATOR.join(normalised).encode()


def tag(key, data):
    """The truncated HMAC-SHA256 of the normalised parts under an index key."""
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:TAG_HEX_CHARS]


def blind_index(name, *parts):
    """The value to store in blind index `name` for these parts (None when a part is missing)."""
    data = message(*parts)
    if data is None:
        return None
    keys = keyring().index_keys_for_writing(check_name(name))
    return tag(keys[0][1], data)


def fill_indexes(obj):
    """Set every blind-index column declared on obj's model from the declaration's own parts, so
    that the values written and the values `flask keys reindex` recomputes cannot drift apart."""
    for entry in BlindIndex.registry:
        if isinstance(obj, entry.model):
            setattr(obj, entry.attr, blind_index(entry.index_name, *entry.parts(obj)))
    return obj


def matching(model_column, name, *parts):
    """A condition: the column holds these parts' value. While `flask keys reindex` runs (until the
    old key is retired) it matches the value under either key, so lookups do not miss rows."""
    data = message(*parts)
    keys = keyring().index_keys(check_name(name)) if data is not None else []
    if not keys:
        return false()
    return model_column.in_([tag(key, data) for _, key, _ in keys])


# What "sounds like" and "starts with" compare: a name's first and last words (a middle name is
# often left out or added), each as its Double Metaphone code or its first letters.
PREFIX_LETTERS = (1, 3)  # the first name's first letter, the last name's first three


def name_words(value):
    """The words of a name, each normalised ("Mary-Jane  O'Brien" -> ["maryjane", "obrien"])."""
    return [word for word in (normalise_text(part) for part in (value or "").split()) if word]


def sound_codes(value):
    """The (primary, alternate) Double Metaphone codes of a name's first and last words:
    [(first primary, first alternate), (last primary, last alternate)], or None for one word."""
    words = name_words(value)
    if len(words) < 2:
        return None
    codes = []
    for word in (words[0], words[-1]):
        primary, alternate = doublemetaphone(word)
        codes.append((primary or None, alternate or primary or None))
    return codes


def sound_parts(value, year, first=0, last=0):
    """The parts of a name's sound-alike index: the first word's code and the last word's code (0:
    primary, 1: alternate; a name is indexed under each of the four pairs, so that a slip that keeps
    only one word's alternate code still meets the other word's primary) and the year of birth;
    None parts (not indexed) without two words or a year."""
    codes = sound_codes(value)
    if codes is None or year is None:
        return (None,)
    return codes[0][first], codes[1][last], str(year)


def prefix_parts(value, year):
    """The parts of a name's first-letters index: the first name's first letter, the last name's first
    three letters (all of a shorter one) and the year of birth."""
    words = name_words(value)
    if len(words) < 2 or year is None:
        return (None,)
    return words[0][:PREFIX_LETTERS[0]], words[-1][:PREFIX_LETTERS[1]], str(year)


def sound_alike_condition(model_columns, name, value, year):
    """A condition: one of the columns (the name's four pairs of codes) holds the value of any pair of
    the primary and alternate codes of the searched name's words, with the year."""
    codes = sound_codes(value)
    if codes is None or year is None:
        return false()
    combos = {(first, last) for first in codes[0] for last in codes[1] if first and last}
    tags = set()
    keys = keyring().index_keys(check_name(name))
    for first, last in combos:
        data = message(first, last, str(year))
        if data is not None:
            tags.update(tag(key, data) for _, key, _ in keys)
    if not tags:
        return false()
    return or_(*(column.in_(sorted(tags)) for column in model_columns))
