"""The sandbox dealerships: eight small dealer websites this app serves itself.

Each builds its contact form differently, the way real dealer sites do, so a newcomer
(and the end-to-end test) can watch the whole flow without contacting a real business.
`expected_outcome` is what the contact engine should report for the site, and
`expected_fields` says which posted field should hold which piece of the customer's data
(the name of a Customer attribute).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contacts.engine import outcomes

# Where each site's contact form lives and how it is built.
FORM_ON_HOME = "home"  # a plain form on the home page
FORM_ON_CONTACT_PAGE = "contact_page"  # behind the "Contact Us" link in the nav
FORM_IN_IFRAME = "iframe"  # the home page frames a separate lead-frame page
FORM_WITH_CAPTCHA = "captcha"  # reCAPTCHA guards the form
FORM_NONE = "none"  # a newsletter signup and a site search, but no contact form
FORM_ON_SLOW_PAGE = "slow"  # the home page answers only after a few seconds
FORM_BY_SCRIPT = "script"  # inserted by script after load, posted with fetch() as JSON
FORM_MULTI_FIELD = "multi_field"  # department, radios, vehicle selects, consent, honeypot

DEFAULT_HOURS = (
    ("Monday – Friday", "9:00 AM – 8:00 PM"),
    ("Saturday", "9:00 AM – 7:00 PM"),
    ("Sunday", "10:00 AM – 6:00 PM"),
)


@dataclass(frozen=True)
class SandboxSite:
    slug: str
    name: str
    tagline: str
    makes: tuple[str, ...]
    street: str
    city: str
    zip_code: str
    latitude: float
    longitude: float
    phone: str  # E.164, as the directory stores phones
    colour: str  # header and hero background
    accent: str  # buttons and links
    form: str
    how_built: str  # one line for the sandbox page: how this site's form is built
    # Posted fields the server insists on; a submission missing any is refused.
    required: tuple[str, ...]
    expected_outcome: str
    expected_fields: dict[str, str] = field(default_factory=dict)
    inventory: tuple[tuple[str, int], ...] = ()  # (vehicle, price in dollars)
    hours: tuple[tuple[str, str], ...] = DEFAULT_HOURS
    delay_s: float = 0.0  # how long every page of the site takes to answer
    state: str = "CA"

    @property
    def path(self) -> str:
        return f"/sandbox/{self.slug}/"

    @property
    def phone_display(self) -> str:
        digits = self.phone[-10:]
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"

    @property
    def inventory_prices(self) -> list[tuple[str, str]]:
        return [(vehicle, f"${price:,}") for vehicle, price in self.inventory]

    @property
    def address(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.zip_code}"


SITES: tuple[SandboxSite, ...] = (
    SandboxSite(
        slug="canyon-crest-toyota",
        name="Canyon Crest Toyota",
        tagline="Beverly Hills' hometown Toyota dealer since 1978",
        makes=("Toyota",),
        street="9230 Wilshire Blvd",
        city="Beverly Hills",
        zip_code="90210",
        latitude=34.0671,
        longitude=-118.4009,
        phone="+13105550141",
        colour="#9f1020",
        accent="#c8102e",
        form=FORM_ON_HOME,
        how_built="Plain quick-quote form on the home page; answers with a thank-you on the same page.",
        required=("first_name", "last_name", "email", "phone", "message"),
        expected_outcome=outcomes.SUBMITTED,
        expected_fields={
            "first_name": "first_name",
            "last_name": "last_name",
            "email": "email",
            "phone": "phone",
            "message": "message",
        },
        inventory=(("2026 Toyota RAV4 XLE", 34_990), ("2026 Toyota Camry SE", 31_450),
                   ("2025 Toyota Tacoma TRD Sport", 41_200)),
    ),
    SandboxSite(
        slug="bayside-ford",
        name="Bayside Ford of Santa Monica",
        tagline="Built Ford tough, a block from the beach",
        makes=("Ford",),
        street="1230 Santa Monica Blvd",
        city="Santa Monica",
        zip_code="90401",
        latitude=34.0262,
        longitude=-118.4856,
        phone="+13105550172",
        colour="#0a3d91",
        accent="#1f6fd6",
        form=FORM_ON_CONTACT_PAGE,
        how_built="Contact page behind the “Contact Us” nav link; one full-name field; redirects to a thank-you page.",
        required=("name", "email", "comments"),
        expected_outcome=outcomes.SUBMITTED,
        expected_fields={
            "name": "full_name",
            "email": "email",
            "phone": "phone",
            "zip": "zip_code",
            "comments": "message",
        },
        inventory=(("2026 Ford F-150 XLT", 52_300), ("2026 Ford Bronco Big Bend", 44_800),
                   ("2025 Ford Mustang Mach-E Premium", 47_995)),
        hours=(("Monday – Saturday", "8:30 AM – 8:00 PM"), ("Sunday", "10:00 AM – 5:00 PM")),
    ),
    SandboxSite(
        slug="culver-city-honda",
        name="Culver City Honda",
        tagline="The Honda store on Washington Boulevard",
        makes=("Honda",),
        street="9077 Washington Blvd",
        city="Culver City",
        zip_code="90232",
        latitude=34.0226,
        longitude=-118.3946,
        phone="+13105550118",
        colour="#2f3640",
        accent="#d3262f",
        form=FORM_IN_IFRAME,
        how_built="The form sits in an iframe (a separate lead-frame page), with placeholders instead of labels.",
        required=("fname", "lname", "email_address"),
        expected_outcome=outcomes.SUBMITTED,
        expected_fields={
            "fname": "first_name",
            "lname": "last_name",
            "email_address": "email",
            "phone_number": "phone",
            "questions": "message",
        },
        inventory=(("2026 Honda CR-V EX-L", 38_650), ("2026 Honda Civic Sport", 27_900),
                   ("2025 Honda Accord Hybrid Touring", 39_400)),
    ),
    SandboxSite(
        slug="sunset-strip-bmw",
        name="Sunset Strip BMW",
        tagline="Sheer driving pleasure on the Sunset Strip",
        makes=("BMW", "MINI"),
        street="8801 Sunset Blvd",
        city="West Hollywood",
        zip_code="90069",
        latitude=34.0907,
        longitude=-118.3863,
        phone="+13105550190",
        colour="#111827",
        accent="#1c69d4",
        form=FORM_WITH_CAPTCHA,
        how_built="Contact form guarded by reCAPTCHA; the server refuses any submission without a token.",
        required=("first_name", "last_name", "email", "message", "g-recaptcha-response"),
        expected_outcome=outcomes.CAPTCHA,
        inventory=(("2026 BMW X5 xDrive40i", 68_900), ("2026 BMW 330i Sedan", 47_200),
                   ("2026 MINI Cooper S", 34_400)),
    ),
    SandboxSite(
        slug="media-city-chevrolet",
        name="Media City Chevrolet",
        tagline="Burbank's Chevy headquarters",
        makes=("Chevrolet",),
        street="1000 N Victory Pl",
        city="Burbank",
        zip_code="91502",
        latitude=34.1810,
        longitude=-118.3119,
        phone="+18185550133",
        colour="#1b1b1b",
        accent="#b8860b",
        form=FORM_NONE,
        how_built="No contact form at all: only a newsletter signup and a site search.",
        required=("email",),  # the newsletter signup
        expected_outcome=outcomes.NO_FORM,
        inventory=(("2026 Chevrolet Silverado 1500 LT", 51_100), ("2026 Chevrolet Equinox EV 2LT", 35_900),
                   ("2026 Chevrolet Tahoe Z71", 68_300)),
    ),
    SandboxSite(
        slug="brand-boulevard-hyundai",
        name="Brand Boulevard Hyundai",
        tagline="Glendale's Hyundai team, on Brand since 1995",
        makes=("Hyundai",),
        street="1100 S Brand Blvd",
        city="Glendale",
        zip_code="91204",
        latitude=34.1352,
        longitude=-118.2553,
        phone="+18185550164",
        colour="#002c5f",
        accent="#00a3e0",
        form=FORM_ON_SLOW_PAGE,
        how_built="A slow site: every page answers after about 3 seconds; Rails-style lead[…] field names.",
        required=("lead[first_name]", "lead[last_name]", "lead[email]", "lead[message]"),
        expected_outcome=outcomes.SUBMITTED,
        expected_fields={
            "lead[first_name]": "first_name",
            "lead[last_name]": "last_name",
            "lead[email]": "email",
            "lead[phone]": "phone",
            "lead[message]": "message",
        },
        inventory=(("2026 Hyundai Tucson SEL", 33_450), ("2026 Hyundai Ioniq 5 SE", 44_900),
                   ("2026 Hyundai Elantra N Line", 29_800)),
        delay_s=3.0,
    ),
    SandboxSite(
        slug="arroyo-subaru",
        name="Arroyo Subaru",
        tagline="Pasadena's Subaru family, from the Arroyo to the mountains",
        makes=("Subaru",),
        street="3000 E Colorado Blvd",
        city="Pasadena",
        zip_code="91101",
        latitude=34.1459,
        longitude=-118.1320,
        phone="+16265550127",
        colour="#2e5b3a",
        accent="#3f8f55",
        form=FORM_BY_SCRIPT,
        how_built="The form is inserted by script about 1 second after load and posted with fetch() as JSON.",
        required=("firstName", "lastName", "email", "message"),
        expected_outcome=outcomes.SUBMITTED,
        expected_fields={
            "firstName": "first_name",
            "lastName": "last_name",
            "email": "email",
            "phone": "phone",
            "zipCode": "zip_code",
            "message": "message",
        },
        inventory=(("2026 Subaru Outback Premium", 34_200), ("2026 Subaru Forester Sport", 36_100),
                   ("2026 Subaru Crosstrek Limited", 32_700)),
    ),
    SandboxSite(
        slug="south-bay-auto-group",
        name="South Bay Auto Group",
        tagline="Five brands, one lot, on Hawthorne Boulevard in Torrance",
        makes=("Toyota", "Honda", "Mazda", "Nissan", "Kia"),
        street="20000 Hawthorne Blvd",
        city="Torrance",
        zip_code="90503",
        latitude=33.8490,
        longitude=-118.3530,
        phone="+13105550156",
        colour="#4b2378",
        accent="#7b3fbf",
        form=FORM_MULTI_FIELD,
        how_built="Department select, contact-method radios, year/make/model selects, required consent, "
                  "an optional marketing opt-in and a hidden honeypot.",
        required=("department", "first_name", "last_name", "email", "phone", "contact_method", "vehicle_year",
                  "vehicle_make", "vehicle_model", "consent"),
        expected_outcome=outcomes.SUBMITTED,
        expected_fields={
            "first_name": "first_name",
            "last_name": "last_name",
            "email": "email",
            "phone": "phone",
            "contact_method": "preferred_contact",
            "vehicle_year": "vehicle_year",
            "vehicle_make": "vehicle_make",
            "vehicle_model": "vehicle_model",
            "comments": "message",
        },
        inventory=(("2026 Mazda CX-50 Turbo", 43_100), ("2025 Nissan Rogue SV", 31_900),
                   ("2026 Kia Telluride EX", 45_600)),
    ),
)

SITES_BY_SLUG: dict[str, SandboxSite] = {site.slug: site for site in SITES}

# The multi-field site's vehicle selects: makes with their models (the model select
# groups them by make, as many dealer sites do without any script).
VEHICLE_YEARS = tuple(str(year) for year in range(2027, 2017, -1))
VEHICLE_MODELS: dict[str, tuple[str, ...]] = {
    "Honda": ("Accord", "Civic", "CR-V", "HR-V", "Odyssey", "Pilot"),
    "Kia": ("Forte", "Sorento", "Sportage", "Telluride"),
    "Mazda": ("CX-30", "CX-5", "CX-50", "CX-90", "Mazda3", "MX-5 Miata"),
    "Nissan": ("Altima", "Frontier", "Pathfinder", "Rogue", "Sentra"),
    "Toyota": ("4Runner", "Camry", "Corolla", "Highlander", "Prius", "RAV4", "Tacoma", "Tundra"),
}
DEPARTMENTS = (("sales", "Sales"), ("service", "Service"), ("parts", "Parts"), ("finance", "Finance"))
CONTACT_METHODS = (("email", "Email"), ("phone", "Phone"), ("text", "Text message"))
# Checkbox names on the multi-field form: the consent the server requires, the
# marketing opt-in a buyer asking for a quote leaves unticked, and the honeypot a
# person never sees.
CONSENT_FIELD = "consent"
MARKETING_OPT_IN_FIELD = "marketing_opt_in"
HONEYPOT_FIELD = "fax_number"
