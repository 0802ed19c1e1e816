"""Login throttling (site and admin), sign-up throttling, password reset by email, and
deleting one's own account."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "password"  # the conftest users' password
WRONG = "not-the-password"
BAD_LOGIN = "Please enter a correct username and password"
THROTTLED = "Too many login attempts from this address or for this username."


def log_in(client, username, password, url=None, address="10.0.0.1"):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def errors_of(response) -> str:
    """The form-wide errors shown, on the site's login page or the admin's."""
    errors = " ".join(response.context["form"].non_field_errors())
    for error in errors.split("  "):
        assert error[:40] in response.content.decode().replace("&#x27;", "'")
    return errors


@pytest.mark.parametrize("login_url", ["login", "admin:login"])
def test_it_stops_guessing_one_username_even_with_the_right_password(client, owner, settings, login_url):
    settings.LOGIN_ATTEMPTS_PER_USERNAME = 5
    url = reverse(login_url)
    if login_url == "admin:login":
        owner.is_staff = True
        owner.save()
    for n in range(5):
        # Spread over addresses: the username's own bucket is what stops it.
        response = log_in(client, owner.username, WRONG, url, address=f"10.0.1.{n}")
        assert response.status_code == 200 and "correct username and password" in errors_of(response)
    response = log_in(client, owner.username, PASSWORD, url, address="10.0.2.1")
    assert THROTTLED in errors_of(response)
    assert "_auth_user_id" not in client.session
    # Another account is not locked by the guesses at this one.
    other = User.objects.create_user("erin", "erin@example.org", PASSWORD, is_staff=True)
    assert log_in(client, other.username, PASSWORD, url, address="10.0.2.1").status_code == 302


def test_it_answers_the_same_for_an_existing_and_a_made_up_username(client, owner, settings):
    settings.LOGIN_ATTEMPTS_PER_USERNAME = 2
    answers = {}
    for username in (owner.username, "nobody-by-this-name"):
        seen = [errors_of(log_in(client, username, WRONG, address="10.0.3.1" if username == owner.username
                                 else "10.0.3.2")) for _ in range(3)]
        answers[username] = seen
    assert answers[owner.username] == answers["nobody-by-this-name"]
    assert BAD_LOGIN in answers[owner.username][0] and THROTTLED in answers[owner.username][2]


def test_it_limits_logins_from_one_address(client, owner, settings):
    settings.LOGIN_ATTEMPTS_PER_ADDRESS = 4
    for n in range(4):
        assert BAD_LOGIN in errors_of(log_in(client, f"user{n}", WRONG, address="10.0.4.1"))
    assert THROTTLED in errors_of(log_in(client, owner.username, PASSWORD, address="10.0.4.1"))
    assert log_in(client, owner.username, PASSWORD, address="10.0.4.2").status_code == 302


SIGNUP = {"email": "new@example.org", "password1": "Hatchback-Ledger-81", "password2": "Hatchback-Ledger-81"}


def test_it_throttles_signups_per_client_address(client, settings):
    settings.SIGNUPS_PER_ADDRESS = 3
    for n in range(3):
        response = client.post(reverse("signup"), {**SIGNUP, "username": f"script{n}"}, REMOTE_ADDR="10.0.5.1")
        assert response.status_code == 302
        client.logout()
    response = client.post(reverse("signup"), {**SIGNUP, "username": "script3"}, REMOTE_ADDR="10.0.5.1")
    assert response.status_code == 429
    assert "Too many sign-ups from your network." in response.content.decode()
    assert not User.objects.filter(username="script3").exists()
    # What was typed stays in the form.
    assert 'value="script3"' in response.content.decode()
    assert client.post(reverse("signup"), {**SIGNUP, "username": "person"}, REMOTE_ADDR="10.0.5.2").status_code == 302


def test_it_throttles_failed_signup_posts_too(client, owner, settings):
    settings.SIGNUPS_PER_ADDRESS = 1  # four posts of any kind per window
    for _ in range(4):
        response = client.post(reverse("signup"), {**SIGNUP, "username": owner.username}, REMOTE_ADDR="10.0.6.1")
        assert response.status_code == 200
    response = client.post(reverse("signup"), {**SIGNUP, "username": "fresh"}, REMOTE_ADDR="10.0.6.1")
    assert response.status_code == 429 and not User.objects.filter(username="fresh").exists()


def test_refilled_buckets_are_pruned(client, owner, settings):
    from datetime import timedelta

    from django.utils import timezone

    from contacts import tasks
    from contacts.models import TokenBucket

    log_in(client, owner.username, WRONG)
    assert TokenBucket.objects.count() == 2  # the address's and the username's
    # Neither the username nor the address is stored as typed.
    assert not TokenBucket.objects.filter(value__contains=owner.username).exists()
    TokenBucket.objects.update(updated=timezone.now() - timedelta(seconds=settings.SIGNUP_THROTTLE_WINDOW_S + 1))
    log_in(client, "someone-else", WRONG, address="10.0.9.9")
    tasks.prune_rate_limits.call_local()
    assert TokenBucket.objects.count() == 2  # only the fresh ones are left


# --- password reset ---------------------------------------------------------------------------


def test_the_login_page_links_to_a_working_password_reset(client, owner, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    login_page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}">Forgot password?</a>' in login_page

    response = client.post(reverse("password_reset"), {"email": owner.email}, follow=True)
    assert "Check your inbox" in response.content.decode()
    [message] = mail.outbox
    assert message.to == [owner.email]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)

    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    response = client.post(form.redirect_chain[-1][0], {"new_password1": "Fresh-Gearbox-907",
                                                        "new_password2": "Fresh-Gearbox-907"}, follow=True)
    assert "Password set" in response.content.decode()
    assert log_in(client, owner.username, "Fresh-Gearbox-907").status_code == 302
    # The link works once.
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_it_answers_the_same_for_an_unknown_email(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"}, follow=True)
    assert "Check your inbox" in response.content.decode()
    assert mail.outbox == []


def test_it_limits_reset_mails_per_address(client, owner, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_RESETS_PER_ADDRESS = 2
    for _ in range(2):
        client.post(reverse("password_reset"), {"email": owner.email}, REMOTE_ADDR="10.0.7.1")
    response = client.post(reverse("password_reset"), {"email": owner.email}, REMOTE_ADDR="10.0.7.1")
    assert response.status_code == 429 and "Too many reset requests" in response.content.decode()
    assert len(mail.outbox) == 2


# --- deleting one's account ---------------------------------------------------------------------


def test_it_needs_a_login_to_delete_an_account(client):
    response = client.get(reverse("account_delete"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_asks_before_deleting_an_account(client, owner, profile):
    client.force_login(owner)
    page = client.get(reverse("account_delete")).content.decode()
    assert "1 customer profile" in page and "Type your username to confirm" in page
    response = client.post(reverse("account_delete"), {"confirm_username": "someone-else"})
    assert response.status_code == 400
    assert User.objects.filter(pk=owner.pk).exists()


def test_the_password_page_links_to_account_deletion(client, owner):
    client.force_login(owner)
    assert reverse("account_delete") in client.get(reverse("password_change")).content.decode()
