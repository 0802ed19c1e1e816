"""Which links lead to a contact page: pure ranking over page_links.js's descriptions."""

from __future__ import annotations

from contacts.engine.finding import rank_contact_links

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
