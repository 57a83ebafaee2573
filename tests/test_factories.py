"""The factories: encrypted values bound to their own row, and objects made in the test's session."""
from sqlalchemy import select

from marac.actions.models import Action
from marac.core.crypto import decrypt_value
from marac.extensions import db
from marac.users.models import User
from tests.factories import ActionFactory, MeetingFactory, PanelFactory, UserFactory
from tests.helpers import fresh


def test_encrypted_constructor_arguments_are_bound_to_the_new_row(world):
    user = UserFactory()
    blob = db.session.execute(select(User.__table__.c.totp_secret).where(User.id == user.id)).scalar_one()
    assert decrypt_value(blob, "users", "totp_secret", user.id) == user.totp_secret
    action = ActionFactory(item=world.item, description="Invented: bound to its row")
    assert fresh(Action, action.id).description == "Invented: bound to its row"


def test_without_mfa_there_is_no_secret():
    user = fresh(User, UserFactory(mfa=False).id)
    assert user.totp_secret is None and not user.has_mfa


def test_built_objects_are_not_stored():
    meeting = MeetingFactory.build(panel=PanelFactory.build(agenda_lead_days=3))
    assert meeting.id is not None and meeting.panel.agenda_lead_days == 3
    assert db.session.get(type(meeting), meeting.id) is None
