from tests.helpers import sign_in


def test_sign_in_and_home(client, world):
    sign_in(client, world.users["manager"])
    response = client.get("/")
    assert response.status_code == 200
    assert world.panel.name in response.get_data(as_text=True)
