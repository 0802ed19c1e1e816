"""The sandbox dealer websites, and the page that shows what they received.

The site views imitate other people's websites: no login, no CSRF token (their forms
are posted by a browser the engine drives, as any dealer site's would be), and nothing
about the app's users in their pages. They answer 404 whenever SANDBOX_ENABLED is off,
even if their URLs were somehow routed.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from contacts.models import AttemptStatus, ContactAttempt, Dealer, DealerSource, SandboxSubmission
from contacts.sandbox import sites
from contacts.sandbox.sites import SandboxSite

SUBMISSIONS_PER_SITE = 5
MISSING_FIELDS_MESSAGE = "Please fill in the required fields marked with *."
BAD_EMAIL_MESSAGE = "Please enter a valid email address."
CAPTCHA_MESSAGE = "Please confirm that you are not a robot."
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Pages every site has besides its home page, as (slug, nav label).
INFO_PAGES = {"inventory": "New Inventory", "service": "Service", "about": "About Us"}


def _site(slug: str) -> SandboxSite:
    if not settings.SANDBOX_ENABLED:
        raise Http404("The sandbox is not enabled.")
    try:
        return sites.SITES_BY_SLUG[slug]
    except KeyError:
        raise Http404("No such sandbox site.") from None


def _render_site(request: HttpRequest, site: SandboxSite, template: str,
                 context: dict[str, Any] | None = None) -> HttpResponse:
    # A slow site is slow on every page it renders, as an overloaded server would be.
    if site.delay_s:
        time.sleep(site.delay_s)
    base = {
        "site": site,
        "info_pages": INFO_PAGES,
        "form_template": f"sandbox/forms/{site.slug}.html",
        "departments": sites.DEPARTMENTS,
        "contact_methods": sites.CONTACT_METHODS,
        "vehicle_years": sites.VEHICLE_YEARS,
        "vehicle_models": sites.VEHICLE_MODELS,
        "consent_field": sites.CONSENT_FIELD,
        "marketing_field": sites.MARKETING_OPT_IN_FIELD,
        "honeypot_field": sites.HONEYPOT_FIELD,
    }
    return render(request, template, {**base, **(context or {})})


def _posted_fields(request: HttpRequest) -> dict[str, Any]:
    """The form as posted: one value per name, or the list when a name repeats."""
    return {name: values[0] if len(values) == 1 else values for name, values in request.POST.lists()}


def _problems(site: SandboxSite, fields: dict[str, Any]) -> dict[str, str]:
    """Field name -> what is wrong with it, as the site's server would check it."""
    problems = {}
    for name in site.required:
        value = fields.get(name, "")
        if not (value.strip() if isinstance(value, str) else value):
            problems[name] = CAPTCHA_MESSAGE if name == "g-recaptcha-response" else MISSING_FIELDS_MESSAGE
    for name, value in fields.items():
        if "email" in name.lower() and name not in problems and isinstance(value, str) and value.strip():
            if not EMAIL_PATTERN.match(value.strip()):
                problems[name] = BAD_EMAIL_MESSAGE
    return problems


def _record(request: HttpRequest, site: SandboxSite, fields: dict[str, Any]) -> SandboxSubmission:
    return SandboxSubmission.objects.create(
        site=site.slug, fields=fields, user_agent=request.headers.get("User-Agent", "")[:300],
        attempt=_sending_attempt(site, fields),
    )


def _sending_attempt(site: SandboxSite, fields: dict[str, Any]) -> ContactAttempt | None:
    """The running attempt that sent these fields: to this site, with its customer's email.

    A dealer's site cannot know who sent a form; the sandbox can, and it keeps each
    submission to the user whose attempt sent it.
    """
    values = {str(value).strip().lower() for value in fields.values() if isinstance(value, (str, int))}
    running = (
        ContactAttempt.objects.filter(
            status=AttemptStatus.RUNNING, dealer__source=DealerSource.SANDBOX, dealer__source_id=site.slug
        )
        .select_related("customer")
        .order_by("-started")
    )
    for attempt in running:
        if attempt.customer.email.lower() in values:
            return attempt
    return None


def _form_exchange(request: HttpRequest, site: SandboxSite, template: str, context: dict[str, Any] | None = None,
                   thank_you_redirect: bool = False) -> HttpResponse:
    """Show the page with its form; on POST validate, record and thank, or show the errors."""
    context = dict(context or {})
    if request.method == "POST":
        fields = _posted_fields(request)
        problems = _problems(site, fields)
        if not problems:
            _record(request, site, fields)
            if thank_you_redirect:
                return redirect("sandbox_thank_you", slug=site.slug)
            context.update(thanked=True, thanked_name=_first_name(fields))
        else:
            context.update(values=_template_keys(fields), problems=_template_keys(problems),
                           error_messages=sorted(set(problems.values())))
    return _render_site(request, site, template, context)


def _template_keys(fields: dict[str, Any]) -> dict[str, Any]:
    """Keys templates can look up: "lead[first_name]" -> "lead_first_name"."""
    return {re.sub(r"\W+", "_", name).strip("_"): value for name, value in fields.items()}


def _first_name(fields: dict[str, Any]) -> str:
    for name, value in fields.items():
        if isinstance(value, str) and value.strip() and re.search(r"f(irst_?)?name", name, re.IGNORECASE):
            return value.strip()
    full = fields.get("name", "")
    return full.split()[0] if isinstance(full, str) and full.strip() else ""


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def site_home(request: HttpRequest, slug: str) -> HttpResponse:
    site = _site(slug)
    if site.form in (sites.FORM_ON_HOME, sites.FORM_WITH_CAPTCHA, sites.FORM_MULTI_FIELD):
        return _form_exchange(request, site, "sandbox/home.html")
    if site.form == sites.FORM_ON_SLOW_PAGE:
        return _form_exchange(request, site, "sandbox/home.html", thank_you_redirect=True)
    if request.method == "POST":
        return HttpResponse("This page does not accept posts.", status=405, content_type="text/plain")
    return _render_site(request, site, "sandbox/home.html")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def site_contact(request: HttpRequest, slug: str) -> HttpResponse:
    site = _site(slug)
    if site.form != sites.FORM_ON_CONTACT_PAGE:
        raise Http404("This site has no contact page.")
    return _form_exchange(request, site, "sandbox/contact.html", thank_you_redirect=True)


@csrf_exempt
@xframe_options_sameorigin  # the site's own home page frames it
@require_http_methods(["GET", "HEAD", "POST"])
def lead_frame(request: HttpRequest, slug: str) -> HttpResponse:
    site = _site(slug)
    if site.form != sites.FORM_IN_IFRAME:
        raise Http404("This site has no lead frame.")
    return _form_exchange(request, site, "sandbox/lead_frame.html")


@csrf_exempt
@require_POST
def lead_api(request: HttpRequest, slug: str) -> JsonResponse:
    """The JSON endpoint the script-built form posts to with fetch()."""
    site = _site(slug)
    if site.form != sites.FORM_BY_SCRIPT:
        raise Http404("This site has no lead API.")
    try:
        fields = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        fields = None
    if not isinstance(fields, dict):
        return JsonResponse({"ok": False, "error": "Send the form as a JSON object."}, status=400)
    problems = _problems(site, fields)
    if problems:
        return JsonResponse({"ok": False, "error": sorted(set(problems.values()))[0], "fields": problems},
                            status=400)
    _record(request, site, fields)
    name = _first_name(fields)
    thanks = f"Thank you{', ' + name if name else ''}! Our team at {site.name} will be in touch shortly."
    return JsonResponse({"ok": True, "message": thanks})


@csrf_exempt
@require_POST
def newsletter(request: HttpRequest, slug: str) -> HttpResponse:
    """A newsletter signup: recorded like any post, so a mistaken 'contact' shows up."""
    site = _site(slug)
    if site.form != sites.FORM_NONE:
        raise Http404("This site has no newsletter.")
    fields = _posted_fields(request)
    problems = _problems(site, fields)
    if problems:
        return _render_site(request, site, "sandbox/home.html",
                            {"newsletter_error": sorted(set(problems.values()))[0], "values": _template_keys(fields)})
    _record(request, site, fields)
    return _render_site(request, site, "sandbox/home.html", {"newsletter_joined": True})


@require_safe
def site_search(request: HttpRequest, slug: str) -> HttpResponse:
    site = _site(slug)
    if site.form != sites.FORM_NONE:
        raise Http404("This site has no search.")
    query = request.GET.get("q", "").strip()
    matches = [vehicle for vehicle in site.inventory_prices if query and query.lower() in vehicle[0].lower()]
    return _render_site(request, site, "sandbox/search.html", {"query": query, "matches": matches})


@require_safe
def info_page(request: HttpRequest, slug: str, page: str) -> HttpResponse:
    site = _site(slug)
    if page not in INFO_PAGES:
        raise Http404("No such page.")
    return _render_site(request, site, "sandbox/info_page.html", {"current_page": page, "page_title": INFO_PAGES[page]})


@require_safe
def thank_you(request: HttpRequest, slug: str) -> HttpResponse:
    return _render_site(request, _site(slug), "sandbox/thank_you.html")


@login_required
@require_safe
def sandbox_index(request: HttpRequest) -> HttpResponse:
    """The sandbox sites, whether they are in the directory, and what each sent them.

    Only the viewer's own: a submission holds a customer's name, email and phone, so it
    is shown to the user whose attempt sent it and to nobody else.
    """
    if not settings.SANDBOX_ENABLED:
        raise Http404("The sandbox is not enabled.")
    own = SandboxSubmission.objects.filter(attempt__owner=request.user)
    latest = (
        own.annotate(
            rank=Window(RowNumber(), partition_by=[F("site")], order_by=[F("received").desc(), F("id").desc()])
        )
        .filter(rank__lte=SUBMISSIONS_PER_SITE)
        .order_by("-received", "-id")
    )
    by_site: dict[str, list[SandboxSubmission]] = {}
    for submission in latest:
        by_site.setdefault(submission.site, []).append(submission)
    counts = dict(own.values_list("site").annotate(n=Count("id")).values_list("site", "n"))
    loaded = set(Dealer.objects.filter(source=DealerSource.SANDBOX).values_list("source_id", flat=True))
    rows = [
        {"site": site, "expected_label": AttemptStatus(site.expected_outcome).label,
         "submissions": by_site.get(site.slug, []), "count": counts.get(site.slug, 0), "loaded": site.slug in loaded}
        for site in sites.SITES
    ]
    return render(request, "sandbox/index.html", {"rows": rows, "all_loaded": len(loaded & sites.SITES_BY_SLUG.keys())
                                                  == len(sites.SITES)})


@require_safe
def recaptcha_loader(request: HttpRequest) -> HttpResponse:
    """A stand-in for https://www.google.com/recaptcha/api.js, so the sandbox's CAPTCHA site
    never makes the browser leave this machine (tests stay on loopback; a closed network
    loses nothing). It builds the widget markup Google's loader builds."""
    if not settings.SANDBOX_ENABLED:
        raise Http404("The sandbox is not enabled.")
    return render(request, "sandbox/recaptcha/api.js", content_type="text/javascript; charset=utf-8")


@require_safe
@xframe_options_sameorigin  # framed by the sandbox site's own page, as Google's anchor is
def recaptcha_anchor(request: HttpRequest) -> HttpResponse:
    if not settings.SANDBOX_ENABLED:
        raise Http404("The sandbox is not enabled.")
    return render(request, "sandbox/recaptcha/anchor.html")
