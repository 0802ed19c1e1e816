"""Multi-step and closed forms, decided from scan.js descriptions alone (pure): which
control is a step and which sends the form, and which hidden forms are worth opening."""

from __future__ import annotations

import pytest

from contacts.engine.form_choice import best_contact_form, closed_contact_forms, form_purpose
from contacts.engine.stepping import field_key, has_later_steps, leads_on
from contacts.engine.submitting import next_button, says_next, submit_button
from tests.engine.test_engine_classifying import field, form


def button(text: str, type: str = "submit", classes: str = "", visible: bool = True, tag: str = "button") -> dict:
    return {"dc": f"b-{text}-{classes}", "tag": tag, "type": type, "text": text, "classes": classes, "visible": visible,
            "disabled": False}


@pytest.mark.parametrize("control", [
    button("Next", "button", "gform_next_button gform-theme-button button", tag="input"),
    button("Continue", "submit", "wpforms-page-button wpforms-page-next"),
    button("Next", "button", "nf-next", tag="input"),
    button("Next Step »", "submit", "forminator-button forminator-button-next"),
    button("Siguiente"),
    button("→", "button", "btn btn-primary next-step"),
])
def test_plugins_step_controls_are_never_the_submit(control):
    step = form([field("First Name"), field("Email", "email")], buttons=[control])
    assert next_button(step) is control
    assert submit_button(step) is None


def test_a_last_step_submit_that_keeps_the_next_classes_is_the_submit():
    # Forminator turns its Next button into the submit on the last page.
    send = button("Send Request", "submit", "forminator-button forminator-button-next forminator-button-submit")
    assert not says_next(send)
    last = form([field("Your question", "textarea")], buttons=[button("« Back", "button", "forminator-button-back"), send])
    assert submit_button(last) is send


def test_a_theme_class_that_merely_contains_next_is_not_a_step():
    assert not says_next(button("Send", "submit", "btn-next-gen"))


def test_a_lone_continue_on_a_one_page_form_sends_it():
    cont = button("Continue")
    one_page = form([field("Name"), field("Email", "email"), field("Message", "textarea")], heading="Contact Us", buttons=[cont])
    assert not leads_on(cont, one_page, done={field_key(f) for f in one_page["fields"]})


def test_next_is_a_step_even_on_a_form_that_shows_no_pages():
    # Formidable's page "Next" is a plain submit button; the server answers with page two.
    nxt = button("Next", "submit", "frm_button_submit")
    page_one = form([field("Name"), field("Email", "email")], heading="Get a Quote", buttons=[nxt])
    assert leads_on(nxt, page_one, done={field_key(f) for f in page_one["fields"]})


@pytest.mark.parametrize("marks", [
    {"text": "Step 1 of 3 Your Info Name Email"},
    {"classes": "wpforms-form wpforms-page-break"},
    {"text": "Paso 1 de 2 Sus datos"},
    {"id": "multi-step-quote"},
])
def test_a_continue_on_a_form_that_says_it_has_pages_is_a_step(marks):
    cont = button("Continue")
    paged = form([field("Name"), field("Email", "email")], heading="Get a Quote", buttons=[cont], **{
        k: v for k, v in marks.items() if k != "text"})
    paged["text"] = marks.get("text", "")
    assert leads_on(cont, paged, done={field_key(f) for f in paged["fields"]})


def test_hidden_unfilled_fields_are_later_steps_but_hidden_honeypots_and_filled_ones_are_not():
    later = field("Comments", "textarea", visible=False, name="comments")
    trap = field("Leave this empty", visible=False, name="hp_field")
    wizard = form([field("Email", "email", name="email"), later, trap])
    assert has_later_steps(wizard, done={"email"})
    assert not has_later_steps(wizard, done={"email", "comments"})


def test_a_part_that_asks_for_the_vehicle_first_is_a_contact_form_when_its_words_say_so():
    # Ninja Forms Multi-Part draws one part at a time: no email on part one.
    model = field("Model", "select", required=True, options=[{"value": "rav4", "text": "RAV4", "disabled": False, "selected": False}])
    next_part = button("Next", "button", "nf-next", tag="input")
    quote = form([model, field("Stock # (if you have one)")], heading="Request a Quote", buttons=[next_part])
    assert form_purpose(quote)[0] == "contact"
    filters = form([field("Model", "select"), field("Stock #")], heading="Search Inventory", buttons=[next_part])
    assert best_contact_form([filters]) is None


def test_a_hidden_honeypot_that_asks_not_to_be_autofilled_is_no_login():
    # Gravity Forms' honeypot carries autocomplete="new-password".
    trap = field("Phone", name="input_99", autocomplete="new-password", visible=False)
    contact = form([field("First Name"), field("Email", "email"), field("Message", "textarea"), trap], heading="Contact Us")
    assert form_purpose(contact)[0] == "contact"
    login = form([field("Email", "email"), field("Password", autocomplete="current-password")])
    assert form_purpose(login)[0] == "login"


def test_closed_forms_worth_opening_are_contact_forms_with_nothing_shown():
    def hidden(*fields):
        return [{**f, "visible": False} for f in fields]

    sales = form(hidden(field("First Name"), field("Email", "email"), field("Comments", "textarea")), heading="Ask our Sales Team")
    service = form(hidden(field("Name"), field("Email", "email"), field("Preferred appointment date", "date")),
                   heading="Schedule Service")
    trade = form(hidden(field("Name"), field("Email", "email"), field("Comments", "textarea")), heading="Value Your Trade")
    shown = form([field("First Name"), field("Email", "email"), field("Comments", "textarea")], heading="Contact Us")
    assert closed_contact_forms([service, trade, shown, sales]) == [sales]


@pytest.mark.parametrize("heading, purpose", [
    ("Service Department", "another department"), ("Contact the Parts Counter", "another department"),
    ("Collision Center Estimate", "another department"), ("Sales & Service Inquiries", "contact"),
    ("Contact Customer Service", "contact"), ("Contact Us", "contact"),
])
def test_a_form_headed_for_another_department_does_not_reach_sales(heading, purpose):
    fields = [field("Name"), field("Email", "email"), field("Phone", "tel"), field("Message", "textarea")]
    assert form_purpose(form(fields, heading=heading))[0] == purpose


def test_a_general_form_whose_department_list_names_service_is_still_a_contact_form():
    department = field("Department", "select", options=[{"value": v, "text": v, "disabled": False, "selected": False}
                                                         for v in ("Sales", "Service", "Parts")])
    general = form([field("Name"), field("Email", "email"), department, field("Message", "textarea")],
                   heading="Get in Touch", text="Name Email Department Sales Service Parts Message")
    assert form_purpose(general)[0] == "contact"


def test_a_redrawn_form_is_known_by_its_own_marks_and_the_fields_it_keeps():
    from contacts.engine.stepping import _likeness

    before = form([field("Email", "email", name="input_2"), field("Comments", "textarea", name="input_7", visible=False)],
                  id="gform_4", classes="gform-form")
    page_two = form([field("Email", "email", name="input_2", visible=False), field("Comments", "textarea", name="input_7")],
                    id="gform_4", classes="gform-form")
    other = form([field("Email", "email", name="nl_email")], classes="gform-form", heading="Newsletter")
    assert _likeness(page_two, before) > _likeness(other, before) >= 3


def test_a_later_step_asking_credit_questions_shows_a_credit_application():
    from contacts.engine.form_choice import plainly_not_contact

    step_three = form([field("Social Security Number"), field("Monthly Income")], heading="Almost done")
    assert plainly_not_contact(step_three) == "credit application"
    message_only = form([field("Questions or Comments", "textarea")], heading="Your Vehicle")
    assert plainly_not_contact(message_only) == ""


def test_a_last_page_button_with_next_and_submit_classes_is_the_submit_whatever_it_says():
    book = button("Book Now", "submit", "forminator-button forminator-button-next forminator-button-submit")
    assert not says_next(book)
    odd = button("Finish Up", "submit", "forminator-button forminator-button-next forminator-button-submit")
    assert not says_next(odd)
