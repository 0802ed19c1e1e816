"""Admin for staff working the manual follow-ups, plus read-only views of the logs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from contacts.forms import ProfileForm
from contacts.models import ContactAttempt, CustomerProfile, Event, Phase, SandboxSubmission, Search
from contacts import limits
from contacts.results import contact_page_url, form_screenshot_caption, result_screenshot_caption
from contacts.services import start_attempts
from contacts.throttle import ThrottledAdminAuthenticationForm

# The admin's login is rate-limited like the site's (contacts.throttle).
admin.site.login_form = ThrottledAdminAuthenticationForm

# URL key -> (model field, what the screenshot shows)
SCREENSHOTS = {
    "form": ("screenshot_form", form_screenshot_caption),
    "result": ("screenshot_result", result_screenshot_caption),
}


class NeedsFollowUpFilter(admin.SimpleListFilter):
    title = "follow-up"
    parameter_name = "follow_up"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("needed", "Needs follow-up"), ("not_needed", "Nothing to follow up")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        needing = ContactAttempt.objects.needs_follow_up()
        if self.value() == "needed":
            return queryset.filter(pk__in=needing)
        if self.value() == "not_needed":
            return queryset.exclude(pk__in=needing)
        return queryset


@admin.register(ContactAttempt)
class ContactAttemptAdmin(admin.ModelAdmin):
    list_display = ("dealer", "customer", "owner", "status", "phase", "created", "followed_up")
    list_filter = (NeedsFollowUpFilter, "status")
    list_select_related = ("dealer", "customer", "owner")
    search_fields = ("dealer__name", "dealer__website", "customer__first_name", "customer__last_name")
    date_hierarchy = "created"
    actions = ("mark_followed_up", "retry", "retry_now")

    class Media:
        css = {"all": ("css/admin.css",)}
    fieldsets = (
        (None, {"fields": ("dealer", "dealer_website", "contact_page", "customer", "owner", "search", "status",
                           "phase")}),
        # What staff need to fill the dealer's form by hand.
        ("Customer, to fill the form by hand", {"fields": ("customer_details", "message_to_copy", "live_view_link")}),
        ("Timing", {"fields": ("created", "started", "finished", "elapsed", "retries", "phase_timings_table")}),
        (
            "What happened",
            {"fields": ("error", "final_url", "message", "filled_fields_table", "screenshots")},
        ),
        ("Follow-up", {"fields": ("followed_up", "followed_up_at", "follow_up_notes")}),
    )
    # Staff record the follow-up; everything else is the worker's record and stays as it ran.
    readonly_fields = (
        "dealer", "dealer_website", "contact_page", "customer_details", "message_to_copy", "customer", "owner", "search", "status", "phase",
        "created", "started", "finished", "elapsed", "retries", "phase_timings_table",
        "error", "final_url", "message", "filled_fields_table", "screenshots", "followed_up_at", "live_view_link",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Attempts are created only by start_attempts, which also queues the work.
        return False

    # --- change view fields -----------------------------------------------------

    @admin.display(description="Dealer website")
    def dealer_website(self, attempt: ContactAttempt) -> str:
        url = attempt.dealer.website
        if not url.lower().startswith(("http://", "https://")):
            return url or "—"
        return format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, url)

    @admin.display(description="Dealer's contact page")
    def contact_page(self, attempt: ContactAttempt) -> str:
        url = contact_page_url(attempt, attempt.dealer)
        if not url.lower().startswith(("http://", "https://")):
            return url or "—"
        return format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, url)

    @admin.display(description="Customer")
    def customer_details(self, attempt: ContactAttempt) -> str:
        customer = attempt.customer
        rows = [
            ("Name", customer.full_name),
            ("Email", customer.email),
            ("Phone", customer.phone_display),
            ("ZIP code", customer.zip_code),
            ("Prefers", customer.get_preferred_contact_display()),
            ("Vehicle", customer.vehicle),
        ]
        body = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        return format_html("<table><tbody>{}</tbody></table>", body)

    @admin.display(description="Message to copy")
    def message_to_copy(self, attempt: ContactAttempt) -> str:
        message = attempt.message or attempt.customer.render_message(attempt.dealer.name)
        return format_html(
            '<textarea readonly rows="8" cols="80" aria-label="Message to copy">{}</textarea>', message
        )

    @admin.display(description="Elapsed (s)")
    def elapsed(self, attempt: ContactAttempt) -> str:
        return "—" if attempt.elapsed_s is None else f"{attempt.elapsed_s:.1f}"

    @admin.display(description="Phase timings")
    def phase_timings_table(self, attempt: ContactAttempt) -> str:
        timings = attempt.phase_timings if isinstance(attempt.phase_timings, dict) else {}
        if not timings:
            return "—"
        labels = dict(Phase.choices)
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td></tr>",
            ((labels.get(phase, phase), f"{seconds} s") for phase, seconds in timings.items()),
        )
        return format_html("<table><thead><tr><th>Phase</th><th>Seconds</th></tr></thead><tbody>{}</tbody></table>", rows)

    @admin.display(description="Filled fields")
    def filled_fields_table(self, attempt: ContactAttempt) -> str:
        entries = [e for e in (attempt.filled_fields or []) if isinstance(e, dict)]
        if not entries:
            return "—"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e.get("label", ""), e.get("kind", ""), e.get("value", "")) for e in entries),
        )
        return format_html(
            "<table><thead><tr><th>Label on the form</th><th>Filled as</th><th>Value</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Screenshots")
    def screenshots(self, attempt: ContactAttempt) -> str:
        previews = [
            (reverse("admin:contacts_contactattempt_screenshot", args=[attempt.pk, which]), caption(attempt))
            for which, (field_name, caption) in SCREENSHOTS.items()
            if getattr(attempt, field_name)
        ]
        if not previews:
            return "No screenshots were taken."
        return format_html_join(
            " ",
            '<figure class="admin-shot">'
            '<a href="{0}" target="_blank" rel="noopener" title="Open full size">'
            '<img src="{0}" alt="Screenshot: {1}"></a>'
            "<figcaption>{1}</figcaption></figure>",
            previews,
        )

    @admin.display(description="Live view")
    def live_view_link(self, attempt: ContactAttempt) -> str:
        # Staff who may change attempts use the owner's live view (contacts.liveview.attempts_for).
        if attempt.status != "captcha" and not attempt.live_views.exists():
            return "—"
        return format_html('<a href="{}">Open live view (solve the CAPTCHA yourself)</a>',
                           reverse("live_view", args=[attempt.pk]))

    def save_model(self, request: HttpRequest, obj: ContactAttempt, form: Any, change: bool) -> None:
        if "followed_up" in form.changed_data:
            obj.followed_up_at = timezone.now() if obj.followed_up else None
        super().save_model(request, obj, form, change)
        if {"followed_up", "follow_up_notes"} & set(form.changed_data):
            obj.record_event("followed_up")  # the user's open results page shows it at once

    # --- screenshots, served to staff only --------------------------------------

    def get_urls(self) -> list[URLPattern]:
        screenshot = path(
            "<int:attempt_id>/screenshot/<str:which>/",
            self.admin_site.admin_view(self.screenshot_view),
            name="contacts_contactattempt_screenshot",
        )
        return [screenshot, *super().get_urls()]

    def screenshot_view(self, request: HttpRequest, attempt_id: int, which: str) -> HttpResponse:
        from contacts.views.attempts import screenshot_response

        attempt = get_object_or_404(ContactAttempt, pk=attempt_id)
        if not self.has_view_permission(request, attempt):
            raise PermissionDenied
        return screenshot_response(attempt, which)

    # --- actions ------------------------------------------------------------------

    @admin.action(description="Mark followed up")
    def mark_followed_up(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for attempt in queryset.filter(followed_up=False):
            attempt.mark_followed_up()
            attempt.record_event("followed_up")  # the user's open results page shows it at once
            count += 1
        self.message_user(request, f"Marked {count} attempt{'s' if count != 1 else ''} followed up.", messages.SUCCESS)

    @admin.action(description="Retry (contact the dealer again)")
    def retry(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._retry(request, queryset, override_cooldown=False)

    @admin.action(description="Retry now, overriding the re-contact cooldown")
    def retry_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Staff may send again within RECONTACT_COOLDOWN_H (a customer asked for it);
        # the do-not-contact list, the dealer's interval and the user's limits still hold.
        self._retry(request, queryset, override_cooldown=True)

    def _retry(self, request: HttpRequest, queryset: QuerySet, *, override_cooldown: bool) -> None:
        queued = waiting = unqueued = 0
        skipped: list[str] = []
        for attempt in queryset.select_related("owner", "customer", "dealer", "search"):
            result = start_attempts(
                attempt.owner, attempt.customer, [attempt.dealer], search=attempt.search, contact_again=True,
                override_cooldown=override_cooldown,
            )
            queued += len(result.created)
            waiting += len(result.waiting)
            unqueued += len(result.waiting_for_queue)
            name = f"{attempt.dealer} for {attempt.customer}"
            if result.in_progress:
                skipped.append(f"{name}: already in progress")
            if result.no_website:
                skipped.append(f"{name}: the dealer has no website")
            for _dealer, entry in result.do_not_contact:
                skipped.append(f"{name}: {entry.domain} is on the do-not-contact list ({entry.reason})")
            for _dealer, free in result.cooling_down:
                skipped.append(
                    f"{name}: contacted within the re-contact cooldown ({settings.RECONTACT_COOLDOWN_H} h) until "
                    f"{limits.when(free)}; use “Retry now” to override"
                )
            if result.limit:
                skipped.append(f"{name}: {result.limit.message}")
            if result.refused:
                skipped.append(f"{name}: {result.refused}")
        message = f"Queued {queued} attempt{'s' if queued != 1 else ''}"
        if waiting:
            message += f" ({waiting} waiting for the dealer's minimum interval)"
        if unqueued:
            message += f" ({unqueued} start when the worker queue can be reached again)"
        if skipped:
            message += "; skipped " + "; ".join(skipped)
        self.message_user(request, message + ".", messages.WARNING if skipped or unqueued or not queued else messages.SUCCESS)


@admin.register(CustomerProfile)
class CustomerProfileAdmin(admin.ModelAdmin):
    # The same validation and normalisation (E.164 phone, real ZIP) as the app's own form.
    form = ProfileForm
    list_display = ("full_name", "owner", "email", "phone", "zip_code", "vehicle", "preferred_contact", "created")
    list_filter = ("preferred_contact",)
    list_select_related = ("owner",)
    search_fields = ("first_name", "last_name", "email", "phone", "zip_code", "vehicle_make", "vehicle_model")
    readonly_fields = ("created", "updated")


@admin.register(Search)
class SearchAdmin(admin.ModelAdmin):
    list_display = ("__str__", "owner", "customer", "created")
    list_select_related = ("owner", "customer")
    search_fields = ("zip_code", "make", "customer__first_name", "customer__last_name", "owner__username")
    readonly_fields = ("latitude", "longitude", "created")


class ReadOnlyAdmin(admin.ModelAdmin):
    """For logs written by the app: staff may look, never change."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "owner", "search", "attempt", "created")
    list_filter = ("kind",)
    list_select_related = ("owner", "search", "attempt__customer", "attempt__dealer")


@admin.register(SandboxSubmission)
class SandboxSubmissionAdmin(ReadOnlyAdmin):
    list_display = ("site", "received", "user_agent")
    list_filter = ("site",)
    fields = ("site", "received", "user_agent", "fields_table")
    readonly_fields = fields

    @admin.display(description="Fields received")
    def fields_table(self, submission: SandboxSubmission) -> SafeString | str:
        received = submission.fields if isinstance(submission.fields, dict) else {}
        if not received:
            return "—"
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", ((k, v) for k, v in received.items()))
        return format_html("<table><tbody>{}</tbody></table>", rows)


# --- Dealer admin (directory) ---
# Imported here, not at the top, so this section stays self-contained for its owner.
from django import forms  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402

from contacts import directory  # noqa: E402
from contacts.geo import lookup_zip  # noqa: E402
from contacts.models import Dealer, DealerSource  # noqa: E402
from contacts.websites import WebsiteError, normalize_website, website_key  # noqa: E402


class DealerAdminForm(forms.ModelForm):
    # Text, not a URLField: normalize_website adds the scheme (https, or http for local sites).
    website = forms.CharField(
        required=False,
        max_length=500,
        help_text="Scheme optional; stored normalised. One dealer per site (http/https, www and pages are one).",
    )
    latitude = forms.FloatField(required=False, help_text="Leave latitude and longitude empty to use the ZIP code's centre.")
    longitude = forms.FloatField(required=False)

    class Meta:
        model = Dealer
        fields = ("name", "website", "phone", "street", "city", "state", "zip_code", "latitude", "longitude", "makes",
                  "source_id")
        help_texts = {
            "makes": "Separated by commas or semicolons, e.g. Ford; Lincoln. Aliases such as Chevy are understood.",
        }

    def clean_website(self) -> str:
        try:
            return normalize_website(self.cleaned_data["website"])
        except WebsiteError as exc:
            raise ValidationError(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None

    def clean_state(self) -> str:
        try:
            return directory.clean_state(self.cleaned_data["state"])
        except ValueError as exc:
            raise ValidationError(f"The {exc}.") from None

    def clean_zip_code(self) -> str:
        try:
            return directory.clean_zip(self.cleaned_data["zip_code"])
        except ValueError as exc:
            raise ValidationError(f"The {exc}.") from None

    def clean_phone(self) -> str:
        return directory.clean_phone(self.cleaned_data["phone"])

    def clean_makes(self) -> str:
        return directory.normalize_makes(self.cleaned_data["makes"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        website = cleaned.get("website")
        if website:
            key = website_key(website)
            holder = Dealer.objects.filter(website_key=key).exclude(pk=self.instance.pk).first()
            if holder is not None:
                self.add_error("website", f"{holder.name} (dealer #{holder.pk}) already has this website ({key}).")
            self.instance.website_key = key
        elif "website" in cleaned:
            self.instance.website_key = None
        self._clean_place(cleaned)
        if self.instance.pk is None or self.has_changed():
            # Staff edits win: a row saved here belongs to staff, so imports only fill its blanks.
            self.instance.source = DealerSource.ADMIN
        self._check_source_id(cleaned.get("source_id") or "")
        return cleaned

    def _check_source_id(self, source_id: str) -> None:
        # The form has no source field, so Django leaves the (source, source_id) constraint
        # to the database; check it here to answer with a field error, not a server error.
        if not source_id:
            return
        holder = (
            Dealer.objects.filter(source=self.instance.source, source_id=source_id).exclude(pk=self.instance.pk).first()
        )
        if holder is not None:
            self.add_error("source_id", f"{holder.name} (dealer #{holder.pk}) already has this source id.")

    def _clean_place(self, cleaned: dict[str, Any]) -> None:
        lat, lng = cleaned.get("latitude"), cleaned.get("longitude")
        if "latitude" in self.errors or "longitude" in self.errors:
            return
        if lat is None and lng is None:
            place = lookup_zip(cleaned.get("zip_code") or "")
            if place is None:
                self.add_error("latitude", "Enter latitude and longitude, or a known ZIP code to use its centre.")
                return
            cleaned["latitude"], cleaned["longitude"] = place.latitude, place.longitude
        elif lat is None or lng is None:
            self.add_error("latitude" if lat is None else "longitude", "Enter both latitude and longitude, or neither.")
        elif not -90 <= lat <= 90:
            self.add_error("latitude", "Latitude must be between -90 and 90.")
        elif not -180 <= lng <= 180:
            self.add_error("longitude", "Longitude must be between -180 and 180.")


@admin.register(Dealer)
class DealerAdmin(admin.ModelAdmin):
    form = DealerAdminForm
    list_display = ("name", "website", "city", "state", "zip_code", "makes", "source", "last_refreshed")
    list_filter = ("source", "state")
    search_fields = ("name", "website", "website_key", "city", "zip_code", "phone", "source_id")
    readonly_fields = ("website_key", "source", "last_refreshed", "created")
    fieldsets = (
        (None, {"fields": ("name", "website", "website_key", "phone", "makes")}),
        ("Place", {"fields": ("street", "city", "state", "zip_code", "latitude", "longitude")}),
        ("Source", {"fields": ("source", "source_id", "last_refreshed", "created")}),
    )

    def save_model(self, request: HttpRequest, obj: Dealer, form: Any, change: bool) -> None:
        if not change or form.changed_data:
            obj.last_refreshed = timezone.now()
        super().save_model(request, obj, form, change)


# --- Do-not-contact list -------------------------------------------------------------

from contacts.models import DoNotContact  # noqa: E402


class DoNotContactForm(forms.ModelForm):
    domain = forms.CharField(
        max_length=255,
        help_text="A domain or any address on the site (bobsford.com, https://www.bobsford.com/contact); "
        "stored as the registrable domain, so every page and subdomain of the site is covered.",
    )

    class Meta:
        model = DoNotContact
        fields = ("domain", "reason", "added")

    def clean_domain(self) -> str:
        try:
            key = website_key(self.cleaned_data["domain"])
        except WebsiteError as exc:
            raise ValidationError(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None
        if not key:
            raise ValidationError("Enter a domain.")
        if DoNotContact.objects.filter(domain=key).exclude(pk=self.instance.pk).exists():
            raise ValidationError(f"{key} is on the list already.")
        return key


@admin.register(DoNotContact)
class DoNotContactAdmin(admin.ModelAdmin):
    form = DoNotContactForm
    list_display = ("domain", "reason", "added", "added_by", "dealers")
    search_fields = ("domain", "reason")
    date_hierarchy = "added"
    readonly_fields = ("added_by",)

    @admin.display(description="Dealers in the directory")
    def dealers(self, entry: DoNotContact) -> str:
        names = list(Dealer.objects.filter(website_key=entry.domain).values_list("name", flat=True)[:3])
        return ", ".join(names) or "—"

    def save_model(self, request: HttpRequest, obj: DoNotContact, form: Any, change: bool) -> None:
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)
        # Queued attempts to this dealer are refused by the worker when their turn comes;
        # ending them now tells their owners at once.
        from contacts.models import AttemptStatus

        for attempt in ContactAttempt.objects.filter(dealer__website_key=obj.domain, status=AttemptStatus.QUEUED):
            if attempt.finish(
                AttemptStatus.CANCELLED,
                error=f"Not contacted: {obj.domain} is on the do-not-contact list ({obj.reason}).",
                only_from=(AttemptStatus.QUEUED,),
            ):
                attempt.record_event("finished")
