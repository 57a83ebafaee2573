"""Person, PersonName and Location: every identifying field encrypted, blind indexes for matching.

Coded categories used for statistics (gender, ethnic group, disability, sexuality, age band) stay in
plain columns: on their own they identify no one.
"""
import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.blind_index import BlindIndex
from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.extensions import db


class YesNoUnknown(Labelled):
    """An answer that may not be known (disability here; the referral questions use it too)."""

    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_KNOWN = "not_known", "Not known"


class Gender(Labelled):
    """A person's gender, for statistics."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NON_BINARY = "non_binary", "Non-binary"
    OTHER = "other", "Other"
    NOT_KNOWN = "not_known", "Not known"


class EthnicGroup(Labelled):
    """A person's ethnic group, for statistics."""

    ASIAN = "asian", "Asian or Asian British"
    BLACK = "black", "Black, Black British, Caribbean or African"
    MIXED = "mixed", "Mixed or multiple ethnic groups"
    WHITE_BRITISH = "white_british", "White British"
    WHITE_OTHER = "white_other", "White (other)"
    OTHER = "other", "Other ethnic group"
    NOT_KNOWN = "not_known", "Not known"


class Sexuality(Labelled):
    """A person's sexuality, for statistics."""

    HETEROSEXUAL = "heterosexual", "Heterosexual"
    GAY_LESBIAN = "gay_lesbian", "Gay or lesbian"
    BISEXUAL = "bisexual", "Bisexual"
    OTHER = "other", "Other"
    NOT_KNOWN = "not_known", "Not known"


class LocationKind(Labelled):
    """What a location is: a hotspot, an address or premises."""

    HOTSPOT = "hotspot", "Hotspot"
    ADDRESS = "address", "Address"
    PREMISES = "premises", "Premises"


class Person(UUIDPrimaryKey, Timestamps, db.Model):
    """Someone named in a case. Coded columns: Gender, EthnicGroup, YesNoUnknown (disability), Sexuality."""

    __tablename__ = "people"

    first_names = Encrypted(str)
    last_name = Encrypted(str)
    date_of_birth = Encrypted(dt.date)
    address = Encrypted(str)
    postcode = Encrypted(str)
    phone = Encrypted(str)
    # Other identifying or sensitive details: language, GP, school, social worker, lives with, ...
    details = Encrypted(dict)
    postcode_index = BlindIndex("postcode", lambda person: (person.postcode,))
    gender: Mapped[str | None] = mapped_column(String(16))
    ethnic_group: Mapped[str | None] = mapped_column(String(32))
    disability: Mapped[str | None] = mapped_column(String(16))
    sexuality: Mapped[str | None] = mapped_column(String(16))
    age_band: Mapped[str | None] = mapped_column(String(8))

    names = relationship("PersonName", back_populates="person", cascade="all, delete-orphan",
                         order_by="PersonName.is_alias")

    @property
    def full_name(self):
        """First names and last name, as given."""
        return " ".join(part for part in (self.first_names, self.last_name) if part)

    @property
    def initials(self):
        """The initials of the first names and last name ("T. F."): how an agenda names a subject."""
        words = " ".join(part for part in (self.first_names, self.last_name) if part).replace("-", " ").split()
        return " ".join(f"{word[0].upper()}." for word in words if word[:1].isalpha())

    @property
    def aliases(self):
        """The other names the person is known by."""
        return [n.full_name for n in self.names if n.is_alias]


class PersonName(UUIDPrimaryKey, db.Model):
    """One name of a person (their name, or an alias), with the blind index of name + date of birth
    that repeat detection and search use."""

    __tablename__ = "person_names"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("people.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)
    is_alias: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    full_name = Encrypted(str)
    name_dob_index = BlindIndex("person_name_dob", lambda name: (name.full_name, name.person.date_of_birth))

    person = relationship("Person", back_populates="names")


class Location(UUIDPrimaryKey, Timestamps, db.Model):
    """A location of concern (MACE hotspot, premises) or an ASB address, as one case's referral gave it:
    each case has its own rows; cases at the same address share only the blind index address_index."""

    __tablename__ = "locations"

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    description = Encrypted(str)
    address = Encrypted(str)
    postcode = Encrypted(str)
    postcode_index = BlindIndex("postcode", lambda location: (location.postcode,))
    address_index = BlindIndex("location_address", lambda location: (location.address, location.postcode))
