"""Sign-up, log in and log out."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db

SIGNUP = {"username": "dana", "email": "dana@example.org", "password1": "Hatchback-Ledger-81",
          "password2": "Hatchback-Ledger-81"}


def test_it_shows_the_signup_form(client):
    response = client.get(reverse("signup"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="email"' in response.content


def test_it_signs_up_and_logs_in(client):
    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == reverse("profile_create")
    user = User.objects.get(username="dana")
    assert user.email == "dana@example.org"
    assert not user.is_staff
    assert client.session["_auth_user_id"] == str(user.pk)


def test_it_keeps_what_was_typed_when_signup_fails(client):
    response = client.post(reverse("signup"), {**SIGNUP, "password2": "different-Ledger-82"})
    assert response.status_code == 200
    assert b'value="dana@example.org"' in response.content
    assert b'value="dana"' in response.content
    assert b"field-errors" in response.content
    assert not User.objects.filter(username="dana").exists()


def test_it_rejects_a_taken_username(client, owner):
    response = client.post(reverse("signup"), {**SIGNUP, "username": owner.username})
    assert response.status_code == 200
    assert User.objects.filter(username=owner.username).count() == 1
    assert "_auth_user_id" not in client.session


def test_it_returns_404_when_signup_is_disabled(client, settings):
    settings.SIGNUP_ENABLED = False
    assert client.get(reverse("signup")).status_code == 404
    assert client.post(reverse("signup"), SIGNUP).status_code == 404
    assert not User.objects.filter(username="dana").exists()


def test_it_sends_a_logged_in_user_home_from_signup(client, owner):
    client.force_login(owner)
    response = client.get(reverse("signup"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_it_links_login_to_signup_only_when_enabled(client, settings):
    assert reverse("signup").encode() in client.get(reverse("login")).content
    settings.SIGNUP_ENABLED = False
    assert reverse("signup").encode() not in client.get(reverse("login")).content


def test_it_logs_in(client, owner):
    response = client.post(reverse("login"), {"username": "alice", "password": "password"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_it_explains_a_failed_login_and_keeps_the_username(client, owner):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert b'value="alice"' in response.content
    assert "_auth_user_id" not in client.session


def test_it_logs_out_with_post(client, owner):
    client.force_login(owner)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_it_changes_the_password(client, owner):
    client.force_login(owner)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(reverse("password_change"), {
        "old_password": "password", "new_password1": "Hatchback-Ledger-81", "new_password2": "Hatchback-Ledger-81",
    })
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("Hatchback-Ledger-81")
