"""The Connectors page: the form generated from a template, saving, editing, deleting,
and bad input that stores nothing."""

from __future__ import annotations

from sqlmodel import select

from core.connectors.registry import ConnectorInput, create_connector, list_connectors
from db.engine import read_session
from db.models import Connector, ConnectorSecret
from tests.conftest import ADMIN
from tests.pages.conftest import sign_in, texts

STRIPE_KEY = "sk_test_pagesecret123456"


def open_connectors(user: str = "editor"):
    at = sign_in(user)
    at.switch_page("pages/connectors.py").run()
    assert not at.exception
    return at


def pick_template(at, name: str):
    box = at.selectbox(key="new_template")
    index = next(i for i, option in enumerate(box.options) if option.startswith(name))
    box.select_index(index).run()
    return at


def stripe_form(at, name: str, key: str = STRIPE_KEY):
    pick_template(at, "Stripe")
    at.text_input(key="new_stripe_name").input(name)
    at.text_input(key="new_stripe_field_secret_key").input(key)
    return at


def press(at, label: str):
    next(b for b in at.button if b.label == label).click().run()
    return at


def test_the_form_is_generated_from_the_template(people):
    at = pick_template(open_connectors(), "Mailchimp")
    labels = [t.label for t in at.text_input]
    assert any("API key" in label for label in labels)
    assert any("Data center" in label or "data center" in label.lower() for label in labels)
    secret = next(t for t in at.text_input if "API key" in t.label)
    assert secret.proto.type == secret.proto.PASSWORD


def test_saving_a_connector_lists_it_with_its_secret_masked(people):
    at = press(stripe_form(open_connectors(), "Stripe – billing"), "Save")
    assert not at.exception
    assert "Saved connector Stripe – billing." in texts(at)
    table = at.dataframe[0].value
    row = table[table["Name"] == "Stripe – billing"].iloc[0]
    assert row["Secrets"] == "secret_key ••••3456"
    assert STRIPE_KEY not in table.to_csv()


def test_bad_input_names_the_fields_and_stores_nothing(people):
    at = stripe_form(open_connectors(), "   ", key="not-a-stripe-key")
    at.text_input(key="new_stripe_base_url").input("htp://nowhere")
    at = press(at, "Save")
    message = "\n".join(e.value for e in at.error)
    assert "Nothing was saved" in message
    assert "**Name**" in message
    assert "**Base URL**" in message
    assert "**Secret or restricted key**" in message
    assert not at.exception
    with read_session(people.engine) as session:
        assert session.exec(select(Connector)).all() == []
        assert session.exec(select(ConnectorSecret)).all() == []


def test_a_whitespace_secret_is_refused(people):
    at = press(stripe_form(open_connectors(), "Stripe", key="    "), "Save")
    assert "is only spaces" in "\n".join(e.value for e in at.error)


def test_a_duplicate_name_is_refused(people):
    create_connector(
        people,
        ADMIN,
        ConnectorInput("Stripe", "stripe", "https://api.stripe.com", {"secret_key": STRIPE_KEY}),
    )
    at = press(stripe_form(open_connectors(), "stripe"), "Save")
    assert "already used" in "\n".join(e.value for e in at.error)


def test_editing_keeps_a_secret_left_blank_and_deleting_needs_confirmation(people):
    create_connector(
        people,
        ADMIN,
        ConnectorInput("Stripe", "stripe", "https://api.stripe.com", {"secret_key": STRIPE_KEY}),
    )
    at = open_connectors()
    (connector,) = list_connectors(people, ADMIN)
    key = f"edit_{connector.id}"
    at.text_input(key=f"{key}_name").input("Stripe EU")
    at = press(at, "Save changes")
    assert "Saved changes to Stripe EU." in texts(at)
    (connector,) = list_connectors(people, ADMIN)
    assert connector.name == "Stripe EU"
    assert connector.secret_hints == {"secret_key": "••••3456"}

    delete = at.button(key="del_button")
    assert delete.disabled
    at.checkbox(key="del_sure").check().run()
    at.button(key="del_button").click().run()
    assert "Deleted connector Stripe EU." in texts(at)
    assert list_connectors(people, ADMIN) == []


def test_test_connection_explains_an_unreachable_host(people):
    at = stripe_form(open_connectors(), "Stripe")
    at.text_input(key="new_stripe_base_url").input("http://127.0.0.1:9")
    at = press(at, "Test connection")
    message = "\n".join(e.value for e in at.error)
    assert "Connection failed" in message
    assert "127.0.0.1:9 is unreachable" in message
    assert not at.exception
