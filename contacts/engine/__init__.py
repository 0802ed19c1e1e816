"""The contact engine: drive a browser to a dealer's contact form, fill it, submit once.

Import only what is below; the modules behind it are free to change.
"""

from contacts.engine.runtime import BrowserSession
from contacts.engine.runner import attempt_contact, contact_dealer

__all__ = ["BrowserSession", "attempt_contact", "contact_dealer"]
