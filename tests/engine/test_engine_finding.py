"""Which links lead to a contact page: pure ranking over page_links.js's descriptions."""

from __future__ import annotations

import pytest

from contacts.engine.finding import label_score, rank_contact_links, rank_links, trigger_score, words_in_common

START = "https://www.cascademazda.example/"


def link(href: str, text: str = "", aria: str = "", title: str = "") -> dict:
    return {"dc": "e1", "href": href, "text": text, "button": False, "visible": True, "title": title, "aria": aria}


def test_an_icon_link_is_known_by_its_aria_label_not_its_svg_title():
    envelope = link(START + "dealership/reach-us.htm", text="envelope", aria="Contact Us", title="Contact Us")
    directions = link(START + "dealership/hours.htm", text="map-marker", aria="Hours and Directions")
    social = link(START + "facebook", text="facebook", aria="Facebook")
    assert rank_contact_links([social, directions, envelope], START) == [
        START + "dealership/reach-us.htm", START + "dealership/hours.htm"]


def test_a_link_that_says_nothing_about_contact_is_not_followed():
    assert rank_contact_links([link(START + "specials", text="Specials", title="See our specials")], START) == []


def names(links: list[dict]) -> list[str]:
    return [href.removeprefix(START) for href in rank_contact_links(links, START)]


def test_links_that_lead_to_a_lead_form_are_followed_after_contact_links():
    nav = [
        link(START + "new-inventory/", text="New Inventory"),
        link(START + "schedule-test-drive/", text="Schedule Test Drive"),
        link(START + "request-info/", text="Request Info"),
        link(START + "about/", text="About Us"),
        link(START + "contact-us/", text="Contact Us"),
        link(START + "hours/", text="Hours & Directions"),
    ]
    assert names(nav) == ["contact-us/", "request-info/", "schedule-test-drive/", "hours/", "about/"]


@pytest.mark.parametrize("text", [
    "Request Info", "Request More Information", "Get a Quote", "Get ePrice", "Get Your ePrice", "Check Availability",
    "Ask a Question", "Schedule Test Drive", "Book a Test Drive", "Get Today's Price",
    "Solicitar información", "Pedir cotización", "Agendar prueba de manejo", "Contáctenos", "Escríbanos",
    "Consultar disponibilidad", "Contact Us ▾",
])
def test_inquiry_and_spanish_link_texts_are_followed(text):
    assert names([link(START + "page-a/", text=text)]) == ["page-a/"]


@pytest.mark.parametrize("text", [
    "Value Your Trade", "Trade-In Appraisal", "Sell Us Your Car", "Get Pre-Approved", "Apply for Financing",
    "Schedule Service", "Parts", "Careers", "Tasación de su auto", "Solicitud de crédito", "Inventario",
    "New Inventory", "Specials", "Privacy Policy",
])
def test_trade_finance_service_and_shopping_links_are_not_followed(text):
    assert names([link(START + "page-b/", text=text)]) == []


def test_an_address_for_another_department_is_not_followed_whatever_the_link_says():
    vague = link(START + "value-your-trade/", text="Get Started")
    hours = link(START + "service/", text="Hours")
    assert names([vague, hours]) == []


def test_words_inside_other_words_do_not_send_a_link_elsewhere():
    assert names([link(START + "departments/", text="Our Departments & Contacts")]) == ["departments/"]


def test_an_address_that_names_the_form_counts_when_the_text_is_vague():
    assert names([link(START + "request-info/", text="Click here"), link(START + "blog/", text="Click here")]) == [
        "request-info/"]


def test_a_long_paragraph_mentioning_contact_is_not_a_link_name():
    blurb = link(START + "blog/post-1/", text="Read how our team helped a family find the right SUV; contact us anytime")
    assert names([blurb]) == []


def test_one_address_linked_twice_keeps_its_best_name():
    assert rank_links([link(START + "reach/", text="About Us"), link(START + "reach/", text="Contact Us")], START) == [
        (10, START + "reach/")]


def test_other_sites_and_anchors_on_the_same_page():
    assert names([link("https://www.facebook.com/contact", text="Contact"),
                  link(START + "contact-us/#form", text="Contact")]) == ["contact-us/"]


@pytest.mark.parametrize("text, score", [
    ("Contact Us", 10), ("Contact Service", 3), ("Get ePrice", 8), ("Schedule a Test Drive", 7), ("Value Your Trade", 0),
    ("Directions", 5), ("More Info", 0), ("Más información", 0), ("Please contact us", 10),
    ("Contact Our Departments", 10), ("Contact Customer Service", 10),
    ("About Us", 2), ("", 0), ("Menu", 0),
    ("Talk to Us", 10), ("Let's Talk", 10), ("Connect With Us", 10), ("Reach Out", 10), ("Send Us an Email", 10),
    ("Hablemos", 10), ("Reach Out to Our Service Team", 3),
])
def test_label_scores(text, score):
    assert label_score(text) == score


def test_a_cards_words_in_common_with_the_wanted_vehicle():
    assert words_in_common("2024 Toyota RAV4 XLE", "2024 Toyota RAV4 XLE $33,488 · 8k mi Request Info") == 4
    assert words_in_common("2024 Toyota RAV4 XLE", "2023 Toyota Highlander XLE Request Info") == 2
    assert words_in_common("2024 Toyota RAV4 XLE", "") == 0
    assert words_in_common("", "2024 Toyota RAV4 XLE") == 0


def control(text: str, tab: bool = False, visible: bool = True) -> dict:
    return {"dc": "e2", "href": "", "text": text, "button": True, "tab": tab, "visible": visible, "title": "", "aria": ""}


@pytest.mark.parametrize("text", ["Sales", "Sales Department", "New & Used Sales", "Pre-Owned Sales", "Ventas",
                                  "Departamento de ventas", "Contact Us", "Request Info"])
def test_a_tab_for_sales_not_shown_yet_is_clicked_for_its_form(text):
    # Department tabs may fetch a panel's content only when it is clicked.
    assert trigger_score(control(text, tab=True)) >= 8


@pytest.mark.parametrize("text", ["Service", "Parts", "Sales Events", "Sales Tax Calculator", "Finance", "Hours"])
def test_tabs_for_other_departments_and_pages_are_left_closed(text):
    assert trigger_score(control(text, tab=True)) < 8


def test_a_button_merely_saying_sales_is_no_tab_and_hidden_controls_are_never_clicked():
    assert trigger_score(control("Sales")) < 8  # a menu toggle, say: it opens no form
    assert trigger_score(control("Sales", tab=True, visible=False)) == 0
    assert trigger_score(control("Contact Us")) == 10
