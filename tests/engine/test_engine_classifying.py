"""Field classification, form choice, CAPTCHA rules and value planning: pure functions, no browser."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from contacts.engine import captcha
from contacts.engine import classifying as k
from contacts.engine.form_choice import best_contact_form, form_purpose
from contacts.engine.planning import UnfillableField, plan
from tests.engine.conftest import CUSTOMER


_ids = itertools.count(1)


def field(label: str = "", type: str = "text", **extra) -> dict:
    base = {
        "dc": f"e{next(_ids)}",
        "tag": "textarea" if type == "textarea" else ("select" if type == "select" else "input"),
        "type": type, "name": "", "id": "", "autocomplete": "", "label": label, "nearby": "",
        "group_label": "", "placeholder": "", "aria_label": "", "title": "", "classes": "",
        "required": False, "visible": True, "via_label": False, "via_widget": False, "disabled": False,
        "readonly": False, "tabindex": "", "value": "", "checked": False, "maxlength": 0, "pattern": "",
        "inputmode": "", "options": [], "multiple": False,
    }
    base.update(extra)
    return base


@pytest.mark.parametrize(
    "label,kind",
    [
        ("First Name *", k.FIRST_NAME), ("Last Name", k.LAST_NAME), ("Full name", k.FULL_NAME),
        ("Your Name (required)", k.FULL_NAME), ("Name", k.FULL_NAME), ("E-mail Address", k.EMAIL),
        ("Confirm Email", k.EMAIL_CONFIRM), ("Re-enter your email", k.EMAIL_CONFIRM),
        ("Phone Number", k.PHONE), ("Mobile", k.PHONE), ("Daytime Phone", k.PHONE), ("Zip Code", k.ZIP),
        ("Postal Code", k.ZIP), ("Comments", k.MESSAGE), ("Questions or Comments", k.MESSAGE),
        ("How can we help you?", k.MESSAGE), ("Subject", k.SUBJECT), ("Stock Number", k.STOCK),
        ("VIN", k.VIN), ("Year", k.VEHICLE_YEAR), ("Make", k.VEHICLE_MAKE), ("Model", k.VEHICLE_MODEL),
        ("Trim", k.VEHICLE_TRIM), ("Vehicle of Interest", k.VEHICLE), ("Year / Make / Model", k.VEHICLE),
        ("Preferred Contact Method", k.CONTACT_METHOD), ("How would you like us to contact you?", k.CONTACT_METHOD),
        ("Department", k.DEPARTMENT), ("How did you hear about us?", k.HEAR_ABOUT), ("Street Address", k.ADDRESS),
        ("City", k.CITY), ("State", k.STATE), ("Company", k.COMPANY), ("Best time to call", k.CONTACT_TIME),
        # Spanish
        ("Nombre", k.FIRST_NAME), ("Apellido", k.LAST_NAME), ("Nombre y Apellido", k.FULL_NAME),
        ("Correo electrónico", k.EMAIL), ("Confirmar correo", k.EMAIL_CONFIRM), ("Teléfono", k.PHONE),
        ("Código postal", k.ZIP), ("Mensaje", k.MESSAGE), ("Comentarios", k.MESSAGE), ("Marca", k.VEHICLE_MAKE),
        ("Modelo", k.VEHICLE_MODEL), ("Año", k.VEHICLE_YEAR), ("Método de contacto preferido", k.CONTACT_METHOD),
    ],
)
def test_it_classifies_fields_by_label(label, kind):
    assert k.classify_field(field(label)) == kind


@pytest.mark.parametrize(
    "attrs,kind",
    [
        ({"name": "fname"}, k.FIRST_NAME), ({"name": "contact.lastName"}, k.LAST_NAME),
        ({"name": "your-email"}, k.EMAIL), ({"id": "PhoneNumber"}, k.PHONE), ({"placeholder": "ZIP"}, k.ZIP),
        ({"aria_label": "Your message"}, k.MESSAGE), ({"autocomplete": "given-name", "name": "field_1"}, k.FIRST_NAME),
        ({"autocomplete": "section-x tel", "label": "Contact"}, k.PHONE), ({"type": "email", "name": "f3"}, k.EMAIL),
        ({"type": "textarea", "name": "input_4"}, k.MESSAGE), ({"type": "password", "name": "pw"}, k.PASSWORD),
        ({"type": "search", "name": "q"}, k.SEARCH), ({"nearby": "Phone", "name": "f9"}, k.PHONE),
        ({"label": "Email", "name": "fname"}, k.EMAIL),  # the label wins over a misleading name
    ],
)
def test_it_classifies_fields_by_attributes(attrs, kind):
    assert k.classify_field(field(**attrs)) == kind


@pytest.mark.parametrize(
    "attrs",
    [
        {"name": "honeypot"}, {"name": "website_hp"}, {"label": "Leave this field blank"},
        {"name": "_gotcha"}, {"label": "If you are human, leave this empty"}, {"name": "ak_hp_textarea"},
        {"name": "bot-field"}, {"tabindex": "-1", "autocomplete": "off", "name": "url"},
        {"name": "wpforms[hp]", "label": "Comment"},  # WPForms' own, labelled to look like the message
    ],
)
def test_it_recognises_honeypots(attrs):
    assert k.classify_field(field(**attrs)) == k.HONEYPOT


@pytest.mark.parametrize(
    "label,kind",
    [
        ("I agree to the privacy policy", k.CONSENT), ("I consent to be contacted", k.CONSENT),
        ("Acepto los términos", k.CONSENT), ("Sign me up for the newsletter", k.MARKETING),
        ("Send me special offers and promotions", k.MARKETING), ("Deseo recibir ofertas", k.MARKETING),
        ("Add me to the Lakeside mailing list for upcoming events and model launches", k.MARKETING),
        ("Yes, send me updates on sales events and new inventory", k.MARKETING),
        ("Join our VIP club", k.MARKETING), ("Keep me informed about new arrivals", k.MARKETING),
        ("Quiero recibir noticias y eventos", k.MARKETING),
        ("I'd like to receive text messages about specials", k.MARKETING),
        ("Send me the weekly inventory digest", k.MARKETING), ("Enviarme el resumen semanal del inventario", k.MARKETING),
        ("I agree to be contacted about my inquiry by phone, text or email", k.CONSENT),
        ("Trade-in?", k.UNKNOWN),
    ],
)
def test_it_tells_consent_from_marketing_checkboxes(label, kind):
    assert k.classify_field(field(label, "checkbox")) == kind


def test_a_radio_group_is_named_by_its_group_label_not_its_option():
    radio = field("Phone", "radio", group_label="Preferred contact method", name="pref")
    assert k.classify_field(radio) == k.CONTACT_METHOD


def test_three_short_inputs_in_a_row_are_a_split_phone():
    fields = [field("Phone", "tel", maxlength=3), field("", "tel", maxlength=3, name="p2"),
              field("", "tel", maxlength=4, name="p3")]
    k.classify_fields(fields)
    assert [f["kind"] for f in fields] == [k.PHONE_AREA, k.PHONE_PREFIX, k.PHONE_LINE]


def test_a_phone_box_right_after_an_area_code_box_takes_the_local_number():
    # Jotform's phone: "Area Code" and "Phone Number", neither with a maxlength.
    fields = [field("Area Code", "tel"), field("Phone Number", "tel"), field("Email", "email")]
    k.classify_fields(fields)
    assert [f["kind"] for f in fields] == [k.PHONE_AREA, k.PHONE_LOCAL, k.EMAIL]
    by_autocomplete = field("Phone Number", "tel", autocomplete="section-input_5 tel-local")
    assert k.classify_field(by_autocomplete) == k.PHONE_LOCAL


def test_the_message_goes_in_one_box_and_never_in_trade_in_fields():
    fields = [field("Trade-in details", "textarea"), field("Questions or comments", "textarea"),
              field("Trade-in Year"), field("Trade-in Make"), field("Work phone", "tel"), field("Phone", "tel")]
    k.classify_fields(fields)
    assert [f["kind"] for f in fields] == [k.TRADE_IN, k.MESSAGE, k.TRADE_IN, k.TRADE_IN, k.UNKNOWN, k.PHONE]


def test_two_unlabelled_text_areas_get_one_message():
    fields = [field("Details", "textarea"), field("Notes", "textarea")]
    k.classify_fields(fields)
    assert [f["kind"] for f in fields] == [k.MESSAGE, k.UNKNOWN]


def test_name_beside_last_name_is_the_first_name():
    fields = [field("Name"), field("Last Name")]
    k.classify_fields(fields)
    assert [f["kind"] for f in fields] == [k.FIRST_NAME, k.LAST_NAME]


def form(fields, heading="", text="", buttons=None, **extra) -> dict:
    k.classify_fields(fields)
    return {"dc": extra.get("dc", "f1"), "tag": "form", "id": extra.get("id", ""), "name": "", "classes": extra.get("classes", ""),
            "action": extra.get("action", ""), "method": "post", "heading": heading, "text": text,
            "visible": True, "fields": fields, "captcha_widgets": extra.get("captcha_widgets", []),
            "buttons": buttons if buttons is not None else [
                {"dc": "b1", "tag": "button", "type": "submit", "text": "Submit", "classes": "", "visible": True, "disabled": False}]}


CONTACT = lambda: form([field("First Name"), field("Last Name"), field("Email", "email"), field("Message", "textarea")],  # noqa: E731
                       heading="Contact Us")


def test_it_picks_the_contact_form_over_newsletter_search_login_and_service():
    newsletter = form([field("Email", "email")], heading="Sign up for our newsletter",
                      buttons=[{"dc": "b", "tag": "button", "type": "submit", "text": "Subscribe", "classes": "", "visible": True, "disabled": False}])
    search = form([field("Search inventory", "search", name="q")])
    login = form([field("Email", "email"), field("Password", "password")])
    service = form([field("Name"), field("Email", "email"), field("Phone", "tel"), field("Preferred date", "date")],
                   heading="Schedule Service")
    contact = CONTACT()
    assert best_contact_form([newsletter, search, login, service, contact]) is contact
    assert form_purpose(newsletter)[0] == "newsletter"
    assert form_purpose(search)[0] == "search or filter"
    assert form_purpose(login)[0] == "login"
    assert form_purpose(service)[0] == "service scheduling"


def test_a_form_offering_sales_is_a_contact_form_whatever_service_question_is_shown_first():
    def dept(checked: str) -> list[dict]:
        return [field(label, "radio", name="input_1", group_label="Department", checked=label == checked)
                for label in ("Sales", "Service", "Parts")]
    fields = dept("Service") + [field("Name"), field("Email", "email"), field("Message", "textarea")]
    assert form_purpose(form(fields, text="Department Sales Service Parts Service Requested Oil change"))[0] == "contact"
    only_service = [field("Name"), field("Email", "email"), field("Message", "textarea")]
    assert form_purpose(form(only_service, heading="Schedule Service"))[0] == "service scheduling"


def test_a_spanish_summary_is_no_resume():
    # "resumen" is Spanish for a summary, not a job application's résumé.
    assert form_purpose(form(CONTACT()["fields"], heading="Contáctenos",
                             text="Nombre Correo Enviarme el resumen semanal del inventario"))[0] == "contact"


@pytest.mark.parametrize("heading", ["Do Not Sell My Personal Information", "Value Your Trade", "Get Pre-Approved",
                                     "Parts Request", "Careers at Valley Motors", "Text with a team member",
                                     "Send us a text"])
def test_forms_for_other_purposes_are_not_contact_forms(heading):
    other = form([field("Name"), field("Email", "email"), field("Phone", "tel"), field("Comments", "textarea")],
                 heading=heading)
    assert best_contact_form([other]) is None


@pytest.mark.parametrize("question", ["Date of Birth", "Annual Income", "Social Security Number", "Employment Status"])
def test_a_form_asking_credit_questions_is_a_credit_application_whatever_its_heading(question):
    prequal = form([field("First Name"), field("Email", "email"), field("Phone", "tel"), field(question),
                    field("Questions or comments", "textarea")], heading="Check Your Buying Power")
    assert form_purpose(prequal) == ("credit application", 0)
    assert form_purpose(CONTACT())[0] == "contact"


def test_an_inventory_filter_is_not_a_contact_form():
    year = field("Year", "select", options=[{"value": "2024", "text": "2024", "disabled": False, "selected": False}])
    filters = form([year, field("Make", "select"), field("Model", "select")])
    assert best_contact_form([filters]) is None


def scan(**extra) -> dict:
    return {"title": "", "body_text": "", "captcha_scripts": [], "captcha_widgets": [], "captcha_globals": [],
            "challenge_markup": False, "forms": [], **extra}


def test_a_widget_inside_the_form_is_a_captcha():
    assert captcha.captcha_guarding(form(CONTACT()["fields"], captcha_widgets=["reCAPTCHA"]), scan()) == "reCAPTCHA"


def test_recaptcha_v3_loaded_site_wide_guards_every_form():
    s = scan(captcha_scripts=["https://www.google.com/recaptcha/api.js?render=6Lc_abc"])
    assert captcha.captcha_guarding(CONTACT(), s) == "reCAPTCHA v3"


@pytest.mark.parametrize("src,kind", [("https://js.hcaptcha.com/1/api.js", "hCaptcha"),
                                      ("https://challenges.cloudflare.com/turnstile/v0/api.js", "Cloudflare Turnstile")])
def test_other_captcha_scripts_without_a_widget_guard_the_page(src, kind):
    assert captcha.captcha_guarding(CONTACT(), scan(captcha_scripts=[src])) == kind


def test_a_captcha_on_another_form_leaves_this_one_free():
    s = scan(captcha_scripts=["https://www.google.com/recaptcha/api.js"], captcha_widgets=[{"dc": "e9", "form": "f2"}])
    assert captcha.captcha_guarding(CONTACT(), s) == ""


def test_a_captcha_beside_the_form_guards_it():
    s = scan(captcha_scripts=["https://www.google.com/recaptcha/api.js"], captcha_widgets=[{"dc": "e9", "form": ""}])
    assert captcha.captcha_guarding(CONTACT(), s) == "CAPTCHA"


def test_an_image_captcha_field_guards_the_form():
    f = CONTACT()
    f["fields"].append(field("Enter the code shown", name="captcha_code"))
    k.classify_fields(f["fields"])
    assert captcha.captcha_guarding(f, scan()) == "image CAPTCHA"


@pytest.mark.parametrize("label", ["What is 3 + 4?", "Enter the security code", "Anti-spam question: 2 plus 5 =",
                                   "Quick question to stop spam: what is three plus five?", "seven + 4 =",
                                   "Prove you're human: 6 plus 1", "Solve: 9 - 2"])
def test_math_and_code_questions_are_captchas(label):
    assert k.classify_field(field(label)) == k.CAPTCHA


@pytest.mark.parametrize("label,kind", [("Phone (310) 555-0123", k.PHONE), ("Questions or comments", k.MESSAGE),
                                        ("Best time to call: 9 - 5", k.CONTACT_TIME)])
def test_numbers_and_questions_that_are_not_arithmetic_are_not_captchas(label, kind):
    assert k.classify_field(field(label)) == kind


@pytest.mark.parametrize("title,body", [("Just a moment...", "Checking your browser before accessing"),
                                        ("Attention Required! | Cloudflare", ""), ("", "Verify you are human")])
def test_it_recognises_challenge_interstitials(title, body):
    assert captcha.challenge_on_page(scan(title=title, body_text=body))


def test_an_ordinary_page_is_not_a_challenge():
    assert not captcha.challenge_on_page(scan(title="Valley Motors", body_text="New and used cars"))


def options(*texts):
    return [{"value": "" if t.startswith("--") else t, "text": t, "disabled": False, "selected": i == 0}
            for i, t in enumerate(texts)]


def by_kind(actions):
    return {a.kind: a.value for a in actions}


def test_plan_uses_the_customer_and_never_the_select_placeholder():
    fields = [
        field("Department", "select", required=True, options=options("-- Select --", "Service", "Parts", "Sales")),
        field("Make", "select", options=options("-- Choose make --", "Honda", "Toyota")),
        field("Preferred contact", "select", options=options("Select one", "Email", "Phone", "Text")),
        field("How did you hear about us?", "select", options=options("-- Select --", "Radio", "Internet")),
    ]
    k.classify_fields(fields)
    values = by_kind(plan(fields, CUSTOMER))
    assert values == {k.DEPARTMENT: "Sales", k.VEHICLE_MAKE: "Toyota", k.CONTACT_METHOD: "Phone"}


def test_plan_ticks_required_consent_only():
    fields = [field("I agree to be contacted", "checkbox", required=True),
              field("Email me special offers", "checkbox"), field("I accept the privacy policy", "checkbox")]
    k.classify_fields(fields)
    actions = plan(fields, CUSTOMER)
    assert [a.field["label"] for a in actions] == ["I agree to be contacted"]


def test_plan_leaves_honeypots_and_hidden_fields_alone():
    fields = [field("Email", "email"), field("", name="honeypot"), field("Phone", "tel", visible=False)]
    k.classify_fields(fields)
    assert [a.kind for a in plan(fields, CUSTOMER)] == [k.EMAIL]


def test_plan_names_an_unknown_required_field():
    fields = [field("Email", "email"), field("Employer", required=True)]
    k.classify_fields(fields)
    with pytest.raises(UnfillableField) as missing:
        plan(fields, CUSTOMER)
    assert missing.value.label == "Employer"


def test_plan_refuses_a_required_select_with_no_sensible_choice():
    fields = [field("Which location?", "select", required=True, options=options("--", "North", "South"))]
    k.classify_fields(fields)
    with pytest.raises(UnfillableField):
        plan(fields, CUSTOMER)


def test_plan_makes_up_no_call_time_and_no_named_lead_source():
    no_time = [field("Best time to call", "select", required=True, options=options("--", "Morning", "Evening"))]
    k.classify_fields(no_time)
    with pytest.raises(UnfillableField):
        plan(no_time, CUSTOMER)
    source = [field("How did you hear about us?", "select", required=True,
                    options=options("Select", "Google", "Facebook", "Other"))]
    k.classify_fields(source)
    assert [a.shown for a in plan(source, CUSTOMER)] == ["Other"]


def test_plan_picks_the_listed_car_over_a_longer_trim_listed_before_it():
    fields = [field("Vehicle of interest", "select", required=True, options=options(
        "-- Select a vehicle --", "2024 Toyota RAV4 XLE Premium (Stock #T2201)", "2024 Toyota RAV4 XLEX",
        "2024 Toyota RAV4 XLE - $31,990 (Stock #T1187)", "2024 Toyota RAV4 XLE (Stock #T1190)"))]
    k.classify_fields(fields)
    assert [a.shown for a in plan(fields, CUSTOMER)] == ["2024 Toyota RAV4 XLE - $31,990 (Stock #T1187)"]


def test_plan_switches_a_pre_checked_service_department_to_sales():
    def group(checked: str) -> list[dict]:
        return [field(label, "radio", name="dept", group_label="Department", checked=label == checked, required=True)
                for label in ("Service", "Sales", "Parts")]
    fields = group("Service")
    k.classify_fields(fields)
    assert [(a.how, a.shown) for a in plan(fields, CUSTOMER)] == [("check", "Sales")]
    already = group("Sales")
    k.classify_fields(already)
    assert plan(already, CUSTOMER) == []
    used_sales = [field(label, "radio", name="d3", group_label="Department", checked=label == "Used Car Sales")
                  for label in ("New Car Sales", "Used Car Sales", "Service")]
    k.classify_fields(used_sales)
    assert plan(used_sales, CUSTOMER) == []  # a sales desk already: the site's choice stands
    no_sales = [field(label, "radio", name="d2", group_label="Department", checked=label == "Service")
                for label in ("Service", "Parts")]
    k.classify_fields(no_sales)
    assert plan(no_sales, CUSTOMER) == []  # nothing better to switch to


def test_plan_leaves_optional_vehicle_selects_alone_when_nothing_matches():
    fields = [field("Model", "select", options=options("-- Model --", "Civic", "Accord"))]
    k.classify_fields(fields)
    assert plan(fields, CUSTOMER) == []


def test_plan_switches_a_pre_checked_contact_method_to_the_customers_own():
    def group(checked: str) -> list[dict]:
        return [field(label, "radio", name="contactMethod", group_label="Preferred contact method",
                      checked=label == checked, value=label.lower()) for label in ("Phone", "Text", "Email")]

    emails = replace(CUSTOMER, preferred_contact="email")
    phone_checked = group("Phone")
    k.classify_fields(phone_checked)
    [action] = plan(phone_checked, emails)
    assert (action.how, action.field["value"]) == ("check", "email")
    already_email = group("Email")
    k.classify_fields(already_email)
    assert plan(already_email, emails) == []


def test_plan_names_a_required_yes_no_question_it_cannot_answer():
    radios = [field(label, "radio", name="military", group_label="Are you active or retired military? *",
                    required=True) for label in ("Yes", "No")]
    k.classify_fields(radios)
    with pytest.raises(UnfillableField) as missing:
        plan(radios, CUSTOMER)
    assert missing.value.label == "Are you active or retired military?"


# --- Questions the profile answers, consent the site ticked in advance, options that load late


@pytest.mark.parametrize(
    "label,kind",
    [
        ("Are you a current customer?", k.CURRENT_CUSTOMER), ("Existing Customer?", k.CURRENT_CUSTOMER),
        ("Are you a current Harbor Point Kia customer?", k.CURRENT_CUSTOMER),
        ("Have you purchased a vehicle from us before?", k.CURRENT_CUSTOMER),
        ("¿Es usted cliente actual?", k.CURRENT_CUSTOMER),
        ("Have you purchased a vehicle from Hillcrest Buick GMC before?", k.CURRENT_CUSTOMER),
        ("¿Ha comprado antes con nosotros?", k.CURRENT_CUSTOMER),
        ("What time of day works best for a call?", k.CONTACT_TIME),
        ("How should we reply?", k.CONTACT_METHOD), ("How should we get back to you?", k.CONTACT_METHOD),
        ("Do you have a trade-in?", k.HAS_TRADE_IN), ("Will you be trading in a vehicle?", k.HAS_TRADE_IN),
        ("Trade-in?", k.HAS_TRADE_IN), ("¿Tiene un vehículo para intercambio?", k.HAS_TRADE_IN),
        ("Will you be financing?", k.FINANCING), ("How do you plan to pay?", k.FINANCING),
        ("Purchase type", k.FINANCING), ("¿Va a financiar?", k.FINANCING), ("Forma de pago", k.FINANCING),
        # The traded car itself stays a trade-in detail nobody can answer for the customer.
        ("Trade-in Year", k.TRADE_IN), ("Trade Mileage", k.TRADE_IN), ("Current vehicle", k.TRADE_IN),
        # What the customer can give where a label offers alternatives, in either language.
        ("Stock # or vehicle of interest", k.VEHICLE), ("Vehicle or stock number", k.VEHICLE),
        ("Stock #", k.STOCK), ("Año, marca y modelo", k.VEHICLE), ("Marca y modelo", k.VEHICLE),
        ("¿Qué vehículo usado le interesa? (año, marca y modelo)", k.VEHICLE),
    ],
)
def test_it_classifies_the_questions_a_profile_answers(label, kind):
    assert k.classify_field(field(label)) == kind


def test_a_trade_in_choice_answered_yes_or_no_asks_whether_there_is_one():
    select = field("Trade-In", "select", options=options("--", "Yes", "No"))
    radios = [field(label, "radio", name="trade", group_label="Trade-in") for label in ("Yes", "No", "Not sure")]
    details = field("Trade-In", "select", options=options("--", "2019", "2020"))
    fields = [select, *radios, details]
    k.classify_fields(fields)
    assert [f["kind"] for f in fields] == [k.HAS_TRADE_IN] * 4 + [k.TRADE_IN]


def required_choice(label, *texts, kind="select"):
    if kind == "radio":
        return [field(t, "radio", name=label, group_label=label, required=True) for t in texts]
    return [field(label, "select", required=True, options=options("-- Select --", *texts))]


@pytest.mark.parametrize(
    "label,texts,shown",
    [
        ("Are you a current customer?", ("Yes", "No"), "No"),
        ("Do you have a trade-in?", ("Yes, I do", "No, I don't", "Not sure"), "No, I don't"),
        ("Will you be financing?", ("Finance", "Lease", "Cash", "Not sure yet"), "Not sure yet"),
        ("How did you hear about us?", ("Television", "Internet Search", "Friend"), "Internet Search"),
        ("How did you hear about us?", ("Google", "Facebook", "Other"), "Other"),
        ("Best time to reach you?", ("Morning", "Afternoon", "Anytime"), "Anytime"),
        # Spanish
        ("¿Es usted cliente actual?", ("Sí", "No"), "No"),
        ("¿Va a financiar?", ("Sí", "No", "No sé todavía"), "No sé todavía"),
        ("Mejor hora para llamarle", ("Mañana", "Tarde", "Cualquier hora"), "Cualquier hora"),
    ],
)
@pytest.mark.parametrize("kind", ["select", "radio"])
def test_plan_answers_a_required_question_with_the_profiles_default(label, texts, shown, kind):
    fields = required_choice(label, *texts, kind=kind)
    k.classify_fields(fields)
    [action] = plan(fields, CUSTOMER)
    assert action.shown == shown


def test_plan_uses_the_answers_the_user_changed():
    customer = replace(CUSTOMER, trade_in="yes", financing="no", heard_about="referral", best_time="evening")
    questions = [
        required_choice("Do you have a trade-in?", "Yes", "No"),
        required_choice("Will you be financing?", "Yes, finance", "No, paying cash", "Undecided"),
        required_choice("How did you hear about us?", "Internet", "Friend / Family", "Other"),
        required_choice("Best time to call", "Morning", "Afternoon", "Evening"),
    ]
    shown = []
    for fields in questions:
        k.classify_fields(fields)
        shown += [a.shown for a in plan(fields, customer)]
    assert shown == ["Yes", "No, paying cash", "Friend / Family", "Evening"]


def test_plan_names_the_question_and_the_answer_when_no_choice_fits():
    fields = required_choice("Will you be financing?", "Yes", "No", kind="radio")
    k.classify_fields(fields)
    with pytest.raises(UnfillableField) as missing:
        plan(fields, CUSTOMER)
    reason = missing.value.sentence()
    assert "Will you be financing?" in reason and "Undecided" in reason and "nothing was sent" in reason


def test_plan_leaves_optional_questions_unanswered_but_corrects_a_contradicting_pre_selection():
    optional = [field("Do you have a trade-in?", "select", options=options("-- Select --", "Yes", "No"))]
    k.classify_fields(optional)
    assert plan(optional, CUSTOMER) == []
    pre_selected = [field("Do you have a trade-in?", "select",
                          options=[{"value": v, "text": v, "disabled": False, "selected": v == "Yes"}
                                   for v in ("Yes", "No")])]
    k.classify_fields(pre_selected)
    assert [(a.how, a.value) for a in plan(pre_selected, CUSTOMER)] == [("select", "No")]
    radios = [field(t, "radio", name="cur", group_label="Are you a current customer?", checked=t == "Yes")
              for t in ("Yes", "No")]
    k.classify_fields(radios)
    assert [(a.how, a.shown) for a in plan(radios, CUSTOMER)] == [("check", "No")]


def test_plan_types_the_profiles_words_into_a_required_question_box():
    fields = [field("How did you hear about us?", required=True), field("Best time to reach you", required=True)]
    k.classify_fields(fields)
    assert [a.value for a in plan(fields, CUSTOMER)] == ["Internet", "Any time"]


def test_plan_unticks_a_pre_ticked_marketing_opt_in_and_ticks_required_consent():
    fields = [
        field("Yes, email me special offers and news", "checkbox", checked=True),
        field("I consent to be contacted about my inquiry", "checkbox", required=True),
        field("I accept the privacy policy", "checkbox", checked=True),
    ]
    k.classify_fields(fields)
    assert [(a.how, a.kind) for a in plan(fields, CUSTOMER)] == [("uncheck", k.MARKETING), ("check", k.CONSENT)]


def test_plan_unticks_a_styled_opt_in_whose_label_is_what_shows():
    fields = [field("Send me promotions", "checkbox", checked=True, visible=True, via_label=True)]
    k.classify_fields(fields)
    assert [a.how for a in plan(fields, CUSTOMER)] == ["uncheck"]


def test_plan_will_not_send_a_required_offers_sign_up_ticked_in_advance():
    fields = [field("Sign me up for special offers", "checkbox", checked=True, required=True)]
    k.classify_fields(fields)
    with pytest.raises(UnfillableField):
        plan(fields, CUSTOMER)
    agreeing = [field("I agree to be contacted and to receive special offers", "checkbox", checked=True,
                      required=True)]
    k.classify_fields(agreeing)
    assert plan(agreeing, CUSTOMER) == []


def test_plan_waits_for_a_dependent_select_instead_of_refusing_it():
    year = field("Year", "select", required=True, options=options("Year", "2023", "2024"))
    make = field("Make", "select", required=True, options=options("Select a year first"))
    model = field("Model", "select", disabled=True, options=options("-- Model --"))
    fields = [year, make, model]
    k.classify_fields(fields)
    waiting: list[dict] = []
    actions = plan(fields, CUSTOMER, waiting=waiting)
    assert [a.value for a in actions] == ["2024"]
    assert [f["label"] for f in waiting] == ["Make", "Model"]
    with pytest.raises(UnfillableField):
        plan(fields, CUSTOMER)  # without a waiting list, an empty required select is refused


def test_plan_will_not_send_a_required_answer_the_site_chose_that_the_profile_did_not_give():
    def pre_selected(required):
        return [field("Will you be financing?", "select", required=required,
                      options=[{"value": v, "text": v, "disabled": False, "selected": v == "Yes"} for v in ("Yes", "No")])]

    required = pre_selected(True)
    k.classify_fields(required)
    with pytest.raises(UnfillableField):
        plan(required, CUSTOMER)
    optional = pre_selected(False)  # nothing the customer could change: the site's default stands
    k.classify_fields(optional)
    assert plan(optional, CUSTOMER) == []
    radios = [field(t, "radio", name="when", group_label="Best time to call *", required=True, checked=t == "Morning")
              for t in ("Morning", "Evening")]
    k.classify_fields(radios)
    with pytest.raises(UnfillableField):
        plan(radios, CUSTOMER)


def test_plan_answers_a_required_checkbox_question_with_one_box():
    boxes = [field(t, "checkbox", name="source[]", group_label="How did you hear about us? *", required=True)
             for t in ("Email newsletter", "Radio", "Online search", "Friend")]
    k.classify_fields(boxes)
    assert {f["kind"] for f in boxes} == {k.HEAR_ABOUT}
    [action] = plan(boxes, CUSTOMER)
    assert (action.how, action.shown) == ("check", "Online search")


def test_answers_pick_the_option_that_says_only_the_customers_answer():
    from contacts.engine import answers

    def opts(*texts):
        return [{"value": t, "text": t} for t in texts]

    # "Finance or lease" says two things; "Finance" says the customer's one.
    assert answers.pick(answers.FINANCING, "yes", opts("Finance or lease", "Finance", "Cash"))["text"] == "Finance"
    assert answers.pick(answers.FINANCING, "lease", opts("Buy", "Lease", "Not sure"))["text"] == "Lease"
    # "Not sure" and "No preference" are not a No; "No sé" is not a No either.
    assert answers.pick(answers.TRADE_IN, "no", opts("Not sure", "No preference", "No"))["text"] == "No"
    assert answers.pick(answers.CURRENT_CUSTOMER, "no", opts("Sí", "No sé")) is None
    assert answers.pick(answers.BEST_TIME, "any", opts("Morning", "Evening")) is None
    assert answers.pick(answers.HEARD_ABOUT, "advertising", opts("Radio", "Other"))["text"] == "Radio"
    assert answers.yes_no_options(["Yes", "No", "Not sure"]) and not answers.yes_no_options(["New", "Used"])


def test_answers_problem_names_the_question_and_the_choices():
    from contacts.engine import answers

    assert answers.problem(answers.BEST_TIME, "any") == ""
    assert answers.problem(answers.BEST_TIME, "noon") == (
        "Best time to reach them: choose one of any (Any time), morning, afternoon, evening.")
    assert answers.problem(answers.TRADE_IN, None).startswith("Trade-in: choose one of no, yes")
    assert set(answers.DEFAULTS) == set(answers.CHOICES) == set(answers.QUESTIONS)


def test_plan_can_defer_a_refusal_until_the_choices_that_may_hide_the_field_are_made():
    radios = [field(t, "radio", name="trade", group_label="Do you have a trade-in?", checked=t == "Yes")
              for t in ("Yes", "No")]
    details = field("Trade-in mileage", required=True)
    fields = [*radios, details]
    k.classify_fields(fields)
    refused: list[UnfillableField] = []
    actions = plan(fields, CUSTOMER, waiting=[], refused=refused)
    assert [(a.how, a.shown) for a in actions] == [("check", "No")]
    assert [r.label for r in refused] == ["Trade-in mileage"]


def test_plan_reads_answers_worded_as_statements():
    current = required_choice("Are you a current customer?", "I'm an existing customer", "I'm a new customer")
    trade = [field(t, "radio", name="trade", group_label="Trade-in", required=True)
             for t in ("I have a trade-in", "No trade-in")]
    k.classify_fields(current)
    k.classify_fields(trade)
    assert trade[0]["kind"] == k.HAS_TRADE_IN
    assert [a.shown for a in plan(current, CUSTOMER)] == ["I'm a new customer"]
    assert [a.shown for a in plan(trade, CUSTOMER)] == ["No trade-in"]
    yes = replace(CUSTOMER, current_customer="yes", trade_in="yes")
    assert [a.shown for a in plan(current, yes)] == ["I'm an existing customer"]
    assert [a.shown for a in plan(trade, yes)] == ["I have a trade-in"]


def test_plan_answers_a_new_or_pre_owned_question_from_the_model_year():
    import datetime

    this_year = datetime.date.today().year
    radios = [field(t, "radio", name="cond", group_label="Are you shopping for a new or pre-owned vehicle?",
                    required=True) for t in ("New", "Pre-Owned")]
    k.classify_fields(radios)
    assert radios[0]["kind"] == k.CONDITION
    assert [a.shown for a in plan(radios, replace(CUSTOMER, vehicle_year=str(this_year)))] == ["New"]
    assert [a.shown for a in plan(radios, replace(CUSTOMER, vehicle_year=str(this_year - 5)))] == ["Pre-Owned"]
