"""Vocabularies: one string enumeration per set of codes (statuses, outcomes, roles, kinds).

A member is its stored value (a `str`, so it compares equal to the column's value and needs no
conversion) and carries the label people read:

    class CaseStatus(Labelled):
        DRAFT = "draft", "Draft"

Every Labelled enumeration is a Jinja global under its class name, so templates compare with
``case.status == CaseStatus.DRAFT`` rather than with a literal.
"""
from enum import StrEnum

_VOCABULARIES = []  # every Labelled enumeration, for the Jinja globals
_LABELS = {}  # {enumeration: {value: label}}, built once each (a list page asks for a label a row)


def vocabularies():
    """Every Labelled enumeration declared so far (all of them, once the models are imported)."""
    return list(_VOCABULARIES)


class Labelled(StrEnum):
    """A string enumeration whose members carry a label for people."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _VOCABULARIES.append(cls)

    def __new__(cls, value, label=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        return member

    @classmethod
    def choices(cls, members=None):
        """(value, label) pairs for a select, radios or checkboxes, in declaration order."""
        return [(member.value, member.label) for member in (members or cls)]

    @classmethod
    def labels(cls):
        """{value: label}, for looking up the label of a stored value."""
        return dict(cls._labels())

    @classmethod
    def _labels(cls):
        if cls not in _LABELS:
            _LABELS[cls] = {member.value: member.label for member in cls}
        return _LABELS[cls]

    @classmethod
    def values(cls):
        """The set of stored values, for validating input."""
        return {member.value for member in cls}

    @classmethod
    def label_of(cls, value):
        """The label of a stored value; the value itself if it is not (or no longer) in the vocabulary."""
        return cls._labels().get(value, value)
