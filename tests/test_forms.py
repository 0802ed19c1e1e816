"""ProfileForm and SignupForm: every field's bad values get a message, good values are normalised."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contacts.forms import PLACEHOLDER_NAMES, ProfileForm, SignupForm, message_template_problems
from contacts.models import CustomerProfile

pytestmark = pytest.mark.django_db


def profile_data(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Dana",
        "last_name": "Driver",
        "email": "dana@example.org",
        "phone": "(310) 555-0123",
        "zip_code": "90210",
        "preferred_contact": "email",
        "vehicle_year": "2024",
        "vehicle_make": "Toyota",
        "vehicle_model": "RAV4",
        "vehicle_trim": "",
        "message_template": "Hello {dealer_name}, I'd like a quote on the {vehicle}. {first_name}",
    }
    data.update(overrides)
    return data


def errors_for(field: str, **overrides: str) -> list[str]:
    form = ProfileForm(profile_data(**overrides))
    assert not form.is_valid()
    assert list(form.errors) == [field]
    return form.errors[field]


def test_it_accepts_a_complete_profile():
    form = ProfileForm(profile_data())
    assert form.is_valid(), form.errors
    profile = form.save(commit=False)
    assert profile.phone == "+13105550123"
    assert profile.vehicle == "2024 Toyota RAV4"


@pytest.mark.parametrize(
    "field",
    ["first_name", "last_name", "email", "phone", "zip_code", "preferred_contact", "vehicle_year",
     "vehicle_make", "vehicle_model", "message_template"],
)
def test_it_names_each_missing_required_field(field):
    [error] = errors_for(field, **{field: ""})
    label = ProfileForm()[field].label
    assert error.startswith(label.split()[0]), error
    assert "enter" in error.lower() or "choose" in error.lower()


def test_it_allows_an_empty_trim():
    assert ProfileForm(profile_data(vehicle_trim="")).is_valid()


def test_it_strips_names_and_vehicle_words():
    form = ProfileForm(profile_data(first_name="  Dana ", vehicle_make=" Toyota ", vehicle_trim=" XLE "))
    assert form.is_valid()
    assert form.cleaned_data["first_name"] == "Dana"
    assert form.cleaned_data["vehicle_make"] == "Toyota"
    assert form.cleaned_data["vehicle_trim"] == "XLE"


def test_it_limits_name_length_and_says_so():
    [error] = errors_for("first_name", first_name="x" * 61)
    assert error == "First name: use at most 60 characters (this has 61)."


@pytest.mark.parametrize("bad", ["dana", "dana@", "@example.org", "dana@@example.org", "dana example@x.org"])
def test_it_rejects_malformed_email(bad):
    assert errors_for("email", email=bad) == ["Email: enter a valid address like name@example.com."]


def test_it_lowercases_the_email_domain_only():
    form = ProfileForm(profile_data(email="Dana.D@Example.ORG"))
    assert form.is_valid()
    assert form.cleaned_data["email"] == "Dana.D@example.org"


@pytest.mark.parametrize("typed", ["(310) 555-0123", "310-555-0123", "310.555.0123", "3105550123",
                                   "+1 310 555 0123", "1 (310) 555-0123"])
def test_it_stores_us_phone_numbers_as_e164(typed):
    form = ProfileForm(profile_data(phone=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == "+13105550123"


@pytest.mark.parametrize("bad", ["555-0123", "123", "phone me", "(010) 555-0123"])
def test_it_rejects_incomplete_or_impossible_phone_numbers(bad):
    [error] = errors_for("phone", phone=bad)
    assert error.startswith("Phone:")
    assert bad in error
    assert "(310) 555-0123" in error


@pytest.mark.parametrize("foreign", ["+44 20 7946 0000", "+1 604 555 0123"])
def test_it_rejects_numbers_outside_the_us(foreign):
    [error] = errors_for("phone", phone=foreign)
    assert "is not a US number" in error


def test_it_shows_a_stored_phone_in_national_format():
    profile = CustomerProfile(phone="+13105550123", zip_code="90210")
    assert ProfileForm(instance=profile)["phone"].value() == "(310) 555-0123"


def test_it_shows_a_bad_phone_back_exactly_as_typed():
    form = ProfileForm(profile_data(phone="310-555-01"))
    assert not form.is_valid()
    assert form["phone"].value() == "310-555-01"


def test_it_shortens_zip_plus_four_and_names_the_place():
    form = ProfileForm(profile_data(zip_code=" 90210-1234 "))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["zip_code"] == "90210"
    place = form.zip_place
    assert (place.city, place.state) == ("Beverly Hills", "CA")


@pytest.mark.parametrize("bad", ["9021", "902101", "abcde", "90 210", "90210-12"])
def test_it_rejects_zip_codes_that_are_not_five_digits(bad):
    assert errors_for("zip_code", zip_code=bad) == [
        f"ZIP code: “{bad}” is not a ZIP code. Enter five digits, e.g. 90210."
    ]


def test_it_rejects_zip_codes_that_do_not_exist():
    assert errors_for("zip_code", zip_code="00000") == ["ZIP code: 00000 does not exist. Check the digits, e.g. 90210."]


def test_it_has_no_place_for_an_invalid_zip():
    form = ProfileForm(profile_data(zip_code="00000"))
    form.is_valid()
    assert form.zip_place is None


def test_it_accepts_the_first_and_last_model_years():
    last = timezone.localdate().year + 1
    assert ProfileForm(profile_data(vehicle_year="1981")).is_valid()
    assert ProfileForm(profile_data(vehicle_year=str(last))).is_valid()


@pytest.mark.parametrize("offset", [None, 2])
def test_it_rejects_model_years_out_of_range(offset):
    year = 1980 if offset is None else timezone.localdate().year + offset
    [error] = errors_for("vehicle_year", vehicle_year=str(year))
    assert error == f"Year: {year} is out of range. Enter a model year from 1981 to {timezone.localdate().year + 1}."


@pytest.mark.parametrize("bad", ["20x4", "two thousand", "2024.5", "-5"])
def test_it_rejects_years_that_are_not_whole_numbers(bad):
    [error] = errors_for("vehicle_year", vehicle_year=bad)
    assert error.startswith("Year:")


def test_it_rejects_an_unknown_contact_method():
    [error] = errors_for("preferred_contact", preferred_contact="pigeon")
    assert error.startswith("Preferred contact method: choose")


@pytest.mark.parametrize("method", ["email", "phone", "text"])
def test_it_accepts_each_contact_method(method):
    assert ProfileForm(profile_data(preferred_contact=method)).is_valid()


def test_it_accepts_every_known_placeholder():
    template = " ".join("{" + name + "}" for name in PLACEHOLDER_NAMES)
    assert ProfileForm(profile_data(message_template=template)).is_valid()


def test_it_lists_unknown_placeholders_and_the_valid_ones():
    [error] = errors_for("message_template", message_template="Hi {dealer}, I am {firstname} {first_name}")
    assert "unknown placeholders {dealer}, {firstname}." in error
    assert "Use only: {dealer_name}, {vehicle}," in error
    assert "{zip_code}" in error


@pytest.mark.parametrize("template", ["Hi {dealer_name", "Hi dealer_name}", "Price {", "} {vehicle}"])
def test_it_rejects_unbalanced_braces(template):
    [error] = errors_for("message_template", message_template=template)
    assert "not paired" in error
    assert "{{" in error


def test_it_allows_doubled_braces_as_literal_text():
    form = ProfileForm(profile_data(message_template="Budget {{firm}} for the {vehicle}"))
    assert form.is_valid()
    assert form.preview() == "Budget {firm} for the 2024 Toyota RAV4"


@pytest.mark.parametrize("template", ["{}", "{0}", "{vehicle.upper}", "{phone[0]}"])
def test_it_rejects_positional_and_attribute_placeholders(template):
    [error] = errors_for("message_template", message_template=template)
    assert "unknown placeholder" in error


@pytest.mark.parametrize("template", ["{year:>10}", "{vehicle!r}"])
def test_it_rejects_format_specs_and_conversions(template):
    [error] = errors_for("message_template", message_template=template)
    assert "plain names" in error


def test_it_reports_nothing_for_a_good_template():
    assert message_template_problems("Hello {dealer_name}") == []


def test_it_previews_the_message_with_the_values_typed_so_far():
    form = ProfileForm(profile_data(phone="310.555.0123", vehicle_year="20x4",
                                    message_template="{dealer_name}: {phone}, {year} {make}"))
    form.is_valid()
    # The invalid year is previewed as typed; the valid phone as it will be shown.
    assert form.preview() == "Example Motors: (310) 555-0123, 20x4 Toyota"


def test_it_previews_a_saved_profile(profile):
    assert ProfileForm(instance=profile).preview() == profile.render_message("Example Motors")


# --- sign-up -------------------------------------------------------------------------


def signup_data(**overrides: str) -> dict[str, str]:
    data = {"username": "dana", "email": "dana@example.org", "password1": "Hatchback-Ledger-81",
            "password2": "Hatchback-Ledger-81"}
    data.update(overrides)
    return data


def test_it_creates_a_user_with_email():
    form = SignupForm(signup_data())
    assert form.is_valid(), form.errors
    user = form.save()
    assert user.email == "dana@example.org"
    assert user.check_password("Hatchback-Ledger-81")


def test_it_requires_a_valid_email_to_sign_up():
    assert SignupForm(signup_data(email="")).errors["email"] == ["Enter your email address."]
    assert SignupForm(signup_data(email="nope")).errors["email"] == ["Enter a valid email address, like you@example.com."]


def test_it_rejects_mismatched_and_weak_passwords():
    assert "password2" in SignupForm(signup_data(password2="something-else-99")).errors
    weak = SignupForm(signup_data(password1="password", password2="password"))
    assert "password2" in weak.errors


def test_it_rejects_a_taken_username(owner):
    assert "username" in SignupForm(signup_data(username=owner.username)).errors


# --- Answers to dealers' questions ------------------------------------------------------


def test_it_gives_a_new_profile_the_stated_default_answers():
    form = ProfileForm(profile_data())
    assert form.is_valid(), form.errors
    profile = form.save(commit=False)
    assert (profile.current_customer, profile.trade_in, profile.financing, profile.heard_about, profile.best_time) == (
        "no", "no", "undecided", "internet", "any")


def test_it_accepts_every_answer_the_user_may_change_to():
    from contacts.engine import answers

    for question, choices in answers.CHOICES.items():
        for code, _label in choices:
            form = ProfileForm(profile_data(**{question: code.upper()}))
            assert form.is_valid(), form.errors
            assert form.cleaned_data[question] == code


@pytest.mark.parametrize(
    "question, bad, expected",
    [
        ("trade_in", "maybe", "Trade-in: choose one of no, yes."),
        ("financing", "credit card", "Financing: choose one of undecided, yes (Yes, financing)"),
        ("best_time", "midnight", "Best time to reach them: choose one of any (Any time), morning"),
    ],
)
def test_it_rejects_an_answer_that_is_not_a_choice_with_the_same_words_as_the_cli(question, bad, expected):
    from contacts.cli import InputError, load_answers

    [error] = errors_for(question, **{question: bad})
    assert error.startswith(expected)
    with pytest.raises(InputError) as cli_error:
        load_answers({question: bad})
    assert error in str(cli_error.value)


def test_it_keeps_the_saved_answers_when_an_edit_leaves_them_out(profile):
    profile.trade_in, profile.best_time = "yes", "evening"
    profile.save()
    form = ProfileForm(profile_data(), instance=profile)
    assert form.is_valid(), form.errors
    saved = form.save()
    assert (saved.trade_in, saved.best_time, saved.financing) == ("yes", "evening", "undecided")


def test_it_hands_the_answers_to_the_engine(profile):
    profile.current_customer, profile.financing, profile.heard_about = "yes", "lease", "referral"
    customer = profile.to_engine_customer("Example Motors")
    assert (customer.current_customer, customer.trade_in, customer.financing, customer.heard_about,
            customer.best_time) == ("yes", "no", "lease", "referral", "any")
