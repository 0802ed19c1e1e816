"""Forms: sign-up and customer profiles (plus the search and contact forms further down).

Every error names the field and says how to fix it, and nothing the user typed is
dropped: an invalid value is shown back exactly as typed.
"""

from __future__ import annotations

import string
from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.utils import timezone

from contacts import geo
from contacts.engine import answers
from contacts.models import CustomerProfile, Dealer, Search

FIRST_MODEL_YEAR = 1981  # the 17-character VIN era; older cars are out of scope
# The names a message template may use, e.g. "{dealer_name}": the keys the profile fills.
PLACEHOLDER_NAMES: tuple[str, ...] = tuple(CustomerProfile().placeholders())
# Shown in the live preview so the user sees where the dealer's name lands.
PREVIEW_DEALER_NAME = "Example Motors"


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        help_text="Where we can reach you about your account.",
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter a valid email address, like you@example.com.",
        },
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


def us_phone_number(value: str) -> phonenumbers.PhoneNumber | None:
    """The parsed number if value is a valid US phone number, else None."""
    try:
        parsed = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.region_code_for_number(parsed) != "US":
        return None
    return parsed


class USPhoneNumberField(forms.CharField):
    """Accepts any common US spelling, stores E.164 (+13105550123), shows (310) 555-0123."""

    def prepare_value(self, value: Any) -> Any:
        # Shows both the stored E.164 value and a freshly typed valid number in national
        # form; anything unparseable is shown back exactly as typed.
        parsed = us_phone_number(value) if isinstance(value, str) and value else None
        if parsed is None:
            return value
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            parsed = phonenumbers.parse(value, "US")
        except phonenumbers.NumberParseException:
            raise forms.ValidationError(
                "Phone: “%(value)s” is not a phone number. Enter 10 digits with the area code, e.g. (310) 555-0123.",
                code="invalid",
                params={"value": value},
            )
        if phonenumbers.is_valid_number(parsed) and phonenumbers.region_code_for_number(parsed) != "US":
            raise forms.ValidationError(
                "Phone: %(value)s is not a US number. Enter a US number with the area code, e.g. (310) 555-0123.",
                code="not_us",
                params={"value": value},
            )
        if not phonenumbers.is_valid_number(parsed):
            raise forms.ValidationError(
                "Phone: “%(value)s” is not a valid US number. Enter 10 digits with the area code, "
                "e.g. (310) 555-0123.",
                code="invalid",
                params={"value": value},
            )
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def message_template_problems(template: str) -> list[str]:
    """What is wrong with a message template, as sentences the user can act on."""
    cap = settings.MESSAGE_MAX_CHARS
    if len(template) > cap:
        # Dealer forms cut longer messages off; the cap also bounds what each attempt stores.
        return [f"Message template: use at most {cap} characters (this has {len(template)})."]
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return [
            "Message template: a “{” or “}” is not paired. Write placeholders as {first_name}; "
            "to send a literal brace, type it twice ({{ or }})."
        ]
    unknown: list[str] = []
    decorated: list[str] = []
    for _literal, name, format_spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDER_NAMES:
            label = "{" + name + "}"
            if label not in unknown:
                unknown.append(label)
        elif format_spec or conversion:
            suffix = (f"!{conversion}" if conversion else "") + (f":{format_spec}" if format_spec else "")
            decorated.append("{" + name + suffix + "}")
    problems = []
    valid = ", ".join("{" + n + "}" for n in PLACEHOLDER_NAMES)
    if unknown:
        noun = "placeholder" if len(unknown) == 1 else "placeholders"
        problems.append(f"Message template: unknown {noun} {', '.join(unknown)}. Use only: {valid}.")
    if decorated:
        problems.append(
            f"Message template: write placeholders as plain names, without “!” or “:” ({', '.join(decorated)})."
        )
    return problems


class ProfileAnswerField(forms.ChoiceField):
    """One of the profile's answers to dealers' questions, checked by answers.problem, the
    same rule the CLI applies to its customer JSON. Left out of a post, it keeps its value."""

    def __init__(self, question: str, **kwargs: Any) -> None:
        self.question = question
        kwargs.setdefault("label", answers.QUESTIONS[question])
        kwargs.setdefault("initial", answers.DEFAULTS[question])
        super().__init__(choices=answers.CHOICES[question], required=False, **kwargs)

    def to_python(self, value: Any) -> str:
        return super().to_python(value).strip().lower()

    def validate(self, value: Any) -> None:
        if value in self.empty_values:
            return
        problem = answers.problem(self.question, value)
        if problem:
            raise forms.ValidationError(problem, code="invalid_choice")


ANSWER_HELP = {
    answers.CURRENT_CUSTOMER: "For “Are you a current customer?”",
    answers.TRADE_IN: "For “Do you have a trade-in?”",
    answers.FINANCING: "For “Will you be financing?”",
    answers.HEARD_ABOUT: "For “How did you hear about us?”",
    answers.BEST_TIME: "For “Best time to reach you?”",
}


class ProfileForm(forms.ModelForm):
    current_customer = ProfileAnswerField(answers.CURRENT_CUSTOMER, help_text=ANSWER_HELP[answers.CURRENT_CUSTOMER])
    trade_in = ProfileAnswerField(answers.TRADE_IN, help_text=ANSWER_HELP[answers.TRADE_IN])
    financing = ProfileAnswerField(answers.FINANCING, help_text=ANSWER_HELP[answers.FINANCING])
    heard_about = ProfileAnswerField(answers.HEARD_ABOUT, help_text=ANSWER_HELP[answers.HEARD_ABOUT])
    best_time = ProfileAnswerField(answers.BEST_TIME, help_text=ANSWER_HELP[answers.BEST_TIME])
    phone = USPhoneNumberField(
        help_text="A US number with area code, e.g. (310) 555-0123.",
        error_messages={"required": "Phone: enter the customer's phone number, e.g. (310) 555-0123."},
    )
    # Declared here rather than generated from the model so that no length or number
    # validator pre-empts the clean_ methods' messages, and "20x4" is shown as typed.
    zip_code = forms.CharField(
        label="ZIP code",
        help_text="Five digits, e.g. 90210. Dealers near here will be searched.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
        error_messages={"required": "ZIP code: enter the customer's five-digit ZIP code, e.g. 90210."},
    )
    vehicle_year = forms.IntegerField(
        label="Year",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Year: enter the vehicle's model year, e.g. 2024.",
            "invalid": "Year: enter the model year as four digits, e.g. 2024.",
        },
    )

    class Meta:
        model = CustomerProfile
        fields = [
            "first_name",
            "last_name",
            "email",
            "phone",
            "zip_code",
            "preferred_contact",
            "vehicle_year",
            "vehicle_make",
            "vehicle_model",
            "vehicle_trim",
            "message_template",
            *CustomerProfile.ANSWER_FIELDS,
        ]
        labels = {
            "preferred_contact": "Preferred contact method",
            "vehicle_make": "Make",
            "vehicle_model": "Model",
            "vehicle_trim": "Trim",
        }
        help_texts = {"vehicle_trim": "Optional, e.g. XLE."}
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "off"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "off"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "preferred_contact": forms.RadioSelect,
            "message_template": forms.Textarea(attrs={"rows": 8}),
        }
        error_messages = {
            "first_name": {"required": "First name: enter the customer's first name."},
            "last_name": {"required": "Last name: enter the customer's last name."},
            "email": {
                "required": "Email: enter the customer's email address.",
                "invalid": "Email: enter a valid address like name@example.com.",
            },
            "preferred_contact": {
                "required": "Preferred contact method: choose email, phone call or text message.",
                "invalid_choice": "Preferred contact method: choose email, phone call or text message.",
            },
            "vehicle_make": {"required": "Make: enter the vehicle's make, e.g. Toyota."},
            "vehicle_model": {"required": "Model: enter the vehicle's model, e.g. RAV4."},
            "message_template": {"required": "Message template: enter the message to send to each dealer."},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["message_template"].widget.attrs["maxlength"] = str(settings.MESSAGE_MAX_CHARS)
        # A too-long value is reported under its own field with its own label.
        for field in self.fields.values():
            if getattr(field, "max_length", None):
                field.error_messages["max_length"] = (
                    f"{field.label}: use at most %(limit_value)d characters (this has %(show_value)d)."
                )

    def clean_first_name(self) -> str:
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self) -> str:
        return self.cleaned_data["last_name"].strip()

    def clean_email(self) -> str:
        local, _, domain = self.cleaned_data["email"].rpartition("@")
        # The domain part is case-insensitive; the local part is left as typed.
        return f"{local}@{domain.lower()}"

    def clean_zip_code(self) -> str:
        raw = self.cleaned_data["zip_code"].strip()
        digits = raw[:5] if len(raw) == 10 and raw[5] == "-" and raw[6:].isdigit() else raw
        if len(digits) != 5 or not digits.isdigit():
            raise forms.ValidationError(
                "ZIP code: “%(value)s” is not a ZIP code. Enter five digits, e.g. 90210.",
                code="invalid",
                params={"value": raw},
            )
        if geo.lookup_zip(digits) is None:
            raise forms.ValidationError(
                "ZIP code: %(value)s does not exist. Check the digits, e.g. 90210.",
                code="unknown",
                params={"value": digits},
            )
        return digits

    def clean_vehicle_year(self) -> int:
        year = self.cleaned_data["vehicle_year"]
        last = self.last_model_year()
        if not FIRST_MODEL_YEAR <= year <= last:
            raise forms.ValidationError(
                "Year: %(year)s is out of range. Enter a model year from %(first)s to %(last)s.",
                code="out_of_range",
                params={"year": year, "first": FIRST_MODEL_YEAR, "last": last},
            )
        return year

    def clean_vehicle_make(self) -> str:
        return self.cleaned_data["vehicle_make"].strip()

    def clean_vehicle_model(self) -> str:
        return self.cleaned_data["vehicle_model"].strip()

    def clean_vehicle_trim(self) -> str:
        return self.cleaned_data["vehicle_trim"].strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in CustomerProfile.ANSWER_FIELDS:
            if name in cleaned and not cleaned[name]:
                # Not posted (or emptied): the saved answer stands, or the stated default.
                cleaned[name] = getattr(self.instance, name) or answers.DEFAULTS[name]
        return cleaned

    def clean_message_template(self) -> str:
        template = self.cleaned_data["message_template"]
        problems = message_template_problems(template)
        if problems:
            raise forms.ValidationError(problems)
        return template.strip()

    @staticmethod
    def last_model_year() -> int:
        # Next year's models go on sale this year.
        return timezone.localdate().year + 1

    @property
    def zip_place(self) -> geo.ZipPlace | None:
        """The place for a valid ZIP code, shown back as "Beverly Hills, CA"."""
        if not self.is_bound:
            return geo.lookup_zip(self.initial.get("zip_code") or self.instance.zip_code or "")
        if self.errors.get("zip_code"):
            return None
        return geo.lookup_zip(self.cleaned_data.get("zip_code", ""))

    answer_fields = CustomerProfile.ANSWER_FIELDS

    @property
    def answer_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.answer_fields]

    @property
    def placeholder_names(self) -> tuple[str, ...]:
        return PLACEHOLDER_NAMES

    def preview(self) -> str:
        """The message as a dealer would receive it, from the values as they stand now."""
        values: dict[str, Any] = {}
        for name in self.Meta.fields:
            if not self.is_bound:
                values[name] = getattr(self.instance, name)
            elif name in getattr(self, "cleaned_data", {}):
                values[name] = self.cleaned_data[name]
            else:
                # Not valid yet: preview with what the user typed.
                values[name] = self.data.get(name, "")
        sample = CustomerProfile(**values)
        # What is not typed yet shows as [vehicle], never "None" or a gap.
        return sample.render_message(PREVIEW_DEALER_NAME, blank="[{name}]")


MIN_RADIUS_MILES = 5
MAX_RADIUS_MILES = 200
RADIUS_ERROR = f"Radius: enter a whole number of miles from {MIN_RADIUS_MILES} to {MAX_RADIUS_MILES}."


def customer_choice_field(owner: User, empty_label: str) -> forms.ModelChoiceField:
    """A choice among the owner's own profiles only, so nobody picks someone else's customer."""
    return forms.ModelChoiceField(
        queryset=owner.profiles.all(),
        required=False,
        empty_label=empty_label,
        label="Customer",
        error_messages={
            "invalid_choice": "Customer: that profile no longer exists. Choose one of your customer profiles."
        },
    )


class SearchForm(forms.ModelForm):
    zip_code = forms.CharField(
        label="ZIP code",
        help_text="Five digits, e.g. 90210. Dealers are listed by distance from here.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
        error_messages={"required": "ZIP code: enter the five-digit ZIP code to search around, e.g. 90210."},
    )
    radius_miles = forms.IntegerField(
        label="Radius (miles)",
        initial=25,
        help_text=f"From {MIN_RADIUS_MILES} to {MAX_RADIUS_MILES} miles.",
        # A text input, so that "abc" or "500" reaches the server and gets its message
        # instead of being silently blocked or clamped by the browser.
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={"required": RADIUS_ERROR, "invalid": RADIUS_ERROR},
    )
    make = forms.CharField(
        required=False,
        max_length=40,
        help_text="Optional, e.g. Toyota. Leave empty for dealers of every make.",
        error_messages={"max_length": "Make: use at most %(limit_value)d characters (this has %(show_value)d)."},
    )

    class Meta:
        model = Search
        fields = ["zip_code", "radius_miles", "make", "customer"]

    def __init__(self, *args: Any, owner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"] = customer_choice_field(owner, empty_label="No customer yet")
        self.fields["customer"].help_text = "Whose enquiry to send. You can also choose on the results page."

    def clean_zip_code(self) -> str:
        # The same rules and messages as a profile's ZIP code.
        zip_code = ProfileForm.clean_zip_code(self)
        place = geo.lookup_zip(zip_code)
        self.instance.latitude, self.instance.longitude = place.latitude, place.longitude
        return zip_code

    def clean_radius_miles(self) -> int:
        radius = self.cleaned_data["radius_miles"]
        if not MIN_RADIUS_MILES <= radius <= MAX_RADIUS_MILES:
            raise forms.ValidationError(RADIUS_ERROR, code="out_of_range")
        return radius

    def clean_make(self) -> str:
        return self.cleaned_data["make"].strip()


class SearchCustomerForm(forms.ModelForm):
    """Choosing or changing the customer on a search's results page."""

    class Meta:
        model = Search
        fields = ["customer"]

    def __init__(self, *args: Any, owner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"] = customer_choice_field(owner, empty_label="Choose a customer…")


class ContactDealersForm(forms.Form):
    """Which of a search's dealers to contact, for which customer.

    Posted by "Contact selected" (the ticked "dealer" boxes), by one row's "Contact"
    button ("only") and by the "Contact again" confirmation (contact_again=1).
    """

    customer = forms.ModelChoiceField(queryset=CustomerProfile.objects.none(), required=False)
    dealer = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        error_messages={
            "invalid_choice": "A selected dealer is no longer in this search's results. Reload the page and "
            "select again."
        },
    )
    only = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={
            "invalid_choice": "That dealer is no longer in this search's results. Reload the page and try again."
        },
    )
    contact_again = forms.BooleanField(required=False)
    # "Send at once" (the default) or "Review each form first" (contacts/review.py).
    mode = forms.ChoiceField(
        choices=[("send", "Send at once"), ("review", "Review each form first")], required=False,
        error_messages={"invalid_choice": "Choose “Send at once” or “Review each form first”."},
    )

    def __init__(self, *args: Any, owner: User, search: Search, dealers: list[Dealer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.search = search
        self.fields["customer"] = customer_choice_field(owner, empty_label="Choose a customer…")
        # Only the dealers in this search's results count.
        self.dealers_by_id = {dealer.pk: dealer for dealer in dealers}
        choices = [(dealer.pk, dealer.name) for dealer in dealers]
        self.fields["dealer"].choices = choices
        self.fields["only"].choices = choices

    def clean_customer(self) -> CustomerProfile | None:
        if "customer" not in self.data:
            # A post without the chooser (the confirmation, a script) means the search's customer.
            return self.search.customer
        return self.cleaned_data["customer"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "customer" in cleaned and cleaned["customer"] is None:
            if self.owner.profiles.exists():
                self.add_error("customer", "Customer: choose whose enquiry to send before contacting dealers.")
            else:
                self.add_error(
                    "customer", "Customer: create a customer profile first; dealers are contacted on a "
                    "customer's behalf."
                )
        if "dealer" in cleaned and "only" in cleaned:
            ids = [cleaned["only"]] if cleaned["only"] is not None else cleaned["dealer"]
            if not ids:
                self.add_error(None, "Select at least one dealer to contact: tick its box, or press its Contact "
                                     "button.")
            cleaned["dealers"] = [self.dealers_by_id[pk] for pk in ids]
        return cleaned

    def selected_ids(self) -> set[int]:
        """The ticked dealers as posted, so a page shown again with errors keeps them ticked."""
        return {int(value) for value in self.data.getlist("dealer") if value.isdigit()}
