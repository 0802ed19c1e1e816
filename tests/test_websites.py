"""Website normal form and the dedupe key: pure functions, no database."""

from __future__ import annotations

import socket

import pytest

from contacts import websites
from contacts.websites import WebsiteError, normalize_website, website_key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BobsFord.com", "https://bobsford.com/"),
        ("  https://WWW.BobsFord.COM/New-Inventory/?utm_source=osm&utm_medium=x&page=2#top ",
         "https://www.bobsford.com/New-Inventory/?page=2"),
        ("http://bobsford.com:80/contact?gclid=abc&fbclid=def", "http://bobsford.com/contact"),
        ("https://bobsford.com:8443/", "https://bobsford.com:8443/"),
        ("//bobsford.com/x", "https://bobsford.com/x"),
        ("127.0.0.1:8000/sandbox/alpha/", "http://127.0.0.1:8000/sandbox/alpha/"),
        ("localhost:8000", "http://localhost:8000/"),
        ("http://[::1]:8000/a", "http://[::1]:8000/a"),
        ("", ""),
    ],
)
def test_it_normalizes_websites(raw: str, expected: str) -> None:
    assert normalize_website(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("mailto:sales@bobsford.com", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("ftp://bobsford.com/", "only http and https"),
        ("bobs ford.com", "spaces"),
        ("dealer", "no domain"),
        ("https://user:secret@bobsford.com/", "user name or password"),
        ("https://bobsford.com/" + "a" * 600, "longer than 500"),
    ],
)
def test_it_rejects_unusable_websites_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(WebsiteError, match=reason):
        normalize_website(raw)


@pytest.mark.parametrize(
    "variant",
    [
        "http://bobsford.com",
        "https://bobsford.com/",
        "https://www.bobsford.com/",
        "WWW.BOBSFORD.COM",
        "https://www.bobsford.com/new-inventory/trucks?utm_campaign=osm",
        "https://service.bobsford.com/contact-us#form",
    ],
)
def test_it_keys_every_variant_of_one_site_alike(variant: str) -> None:
    assert website_key(variant) == "bobsford.com"


def test_it_keys_multi_part_suffixes_and_hosted_sites_by_their_own_name() -> None:
    assert website_key("https://www.bobsford.co.uk/") == "bobsford.co.uk"
    # Private suffixes: two dealers on one site builder are two dealers.
    assert website_key("https://bobsford.wixsite.com/home") == "bobsford.wixsite.com"
    assert website_key("https://annshonda.wixsite.com/home") == "annshonda.wixsite.com"
    assert website_key("https://bobs-ford.business.site/") == "bobs-ford.business.site"


def test_it_keys_shared_social_sites_by_their_page() -> None:
    assert website_key("https://www.facebook.com/BobsFord/") == "facebook.com/bobsford"
    assert website_key("https://m.facebook.com/bobsford?ref=page") == "facebook.com/bobsford"
    assert website_key("https://www.facebook.com/AnnsHonda") == "facebook.com/annshonda"


def test_it_keys_local_sites_by_host_port_and_path() -> None:
    assert website_key("http://127.0.0.1:9/bh/") == "127.0.0.1:9/bh"
    assert website_key("http://127.0.0.1:9/bh") == "127.0.0.1:9/bh"
    assert website_key("http://127.0.0.1:9/sm/") == "127.0.0.1:9/sm"
    assert website_key("http://127.0.0.1:10/bh/") == "127.0.0.1:10/bh"
    assert website_key("http://localhost:8000/sandbox/alpha/") == "localhost:8000/sandbox/alpha"


def test_it_has_no_key_without_a_website() -> None:
    assert website_key("") is None
    assert website_key("   ") is None


def test_it_keys_without_the_network(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("website_key tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    websites._extractor.cache_clear()  # build the extractor afresh, under the refusal
    assert website_key("https://www.example-dealer.net/") == "example-dealer.net"
