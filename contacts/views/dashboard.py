"""The dashboard: how a user's contact attempts went (staff: everyone's, or one user's)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from contacts import charts, stats
from contacts.engine import outcomes
from contacts.models import AttemptStatus, ContactAttempt

PERIODS = [(7, "Last 7 days"), (30, "Last 30 days"), (90, "Last 90 days"), (365, "Last 12 months")]
DEFAULT_DAYS = 30
STATUS_LABELS = dict(AttemptStatus.choices)


class DashboardFilterForm(forms.Form):
    days = forms.TypedChoiceField(label="Period", choices=PERIODS, coerce=int, required=False)
    user = forms.ModelChoiceField(
        label="User", queryset=get_user_model().objects.none(), required=False, empty_label="All users"
    )

    def __init__(self, *args, staff: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if staff:
            self.fields["user"].queryset = get_user_model().objects.order_by("username")
        else:
            del self.fields["user"]


def scoped_attempts(request: HttpRequest):
    """(attempts the viewer may see, as filtered; the user shown or None for everyone; the form).

    A non-staff user sees only their own; naming anyone else is a 404, like any other
    object of theirs. Staff see everyone's, or one user's.
    """
    staff = request.user.is_staff
    data = request.GET.copy()
    if not staff:
        asked = data.pop("user", [])
        if any(value not in ("", str(request.user.pk)) for value in asked):
            raise Http404("No such user.")
    form = DashboardFilterForm(data or None, staff=staff, initial={"days": DEFAULT_DAYS})
    days, subject = DEFAULT_DAYS, None if staff else request.user
    if form.is_bound:
        if not form.is_valid():
            if staff and "user" in form.errors:
                raise Http404("No such user.")
        else:
            days = form.cleaned_data.get("days") or DEFAULT_DAYS
            if staff:
                subject = form.cleaned_data.get("user")
    attempts = ContactAttempt.objects.all()
    if subject is not None:
        attempts = attempts.filter(owner=subject)
    return attempts, subject, days, form


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def build_charts(dash: stats.Dashboard, days: int) -> dict[str, charts.Chart]:
    over = dash.over_time
    fmt = "%b %-d"
    result = {
        "over_time": charts.stacked_columns(
            "chart-over-time",
            "Outcomes over time",
            f"Finished attempts per {over.bucket}, stacked by outcome, {dash.finished} in all.",
            over.periods,
            [(o, str(STATUS_LABELS[o]), over.counts[o]) for o in outcomes.OUTCOMES],
            lambda day: day.strftime(fmt),
        )
    }
    phase_rows = [
        (
            p.label,
            [
                ("series-median", p.median_s or 0.0, _seconds(p.median_s)),
                ("series-p95", p.p95_s or 0.0, _seconds(p.p95_s)),
            ],
        )
        for p in dash.phases
    ]
    result["phases"] = charts.horizontal_bars(
        "chart-phases",
        "Time per phase",
        "Median and 95th percentile seconds spent in each phase by finished attempts.",
        phase_rows,
        legend=[("series-median", "Median"), ("series-p95", "95th percentile")],
    )
    result["reasons"] = charts.horizontal_bars(
        "chart-reasons",
        "Most common failure reasons",
        f"The {len(dash.reasons)} most frequent reasons attempts failed, by number of attempts.",
        [(r.reason, [("series-failed", r.count, f"{r.count}")]) for r in dash.reasons],
        label_chars=44,
    )
    result["platforms"] = charts.horizontal_bars(
        "chart-platforms",
        "CAPTCHA rate per platform",
        "Share of attempts (cancelled ones aside) stopped by a CAPTCHA, by the platform the dealer's site runs on.",
        [
            (p.platform, [("series-captcha", p.rate, f"{p.rate:.0%} ({p.captchas} of {p.attempts})")])
            for p in dash.platforms
        ],
        maximum=1.0,
    )
    return result


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    attempts, subject, days, form = scoped_attempts(request)
    dash = stats.build_dashboard(attempts, days)
    return render(
        request,
        "contacts/dashboard.html",
        {
            "form": form,
            "dash": dash,
            "days": days,
            "period_label": dict(PERIODS)[days],
            "subject": subject,
            "everyone": subject is None,
            "charts": build_charts(dash, days),
            "outcome_rows": [(o, STATUS_LABELS[o], dash.outcome_counts[o]) for o in outcomes.OUTCOMES],
            "over_time_rows": [
                {"period": period, "counts": [(STATUS_LABELS[o], dash.over_time.counts[o][i]) for o in outcomes.OUTCOMES],
                 "total": dash.over_time.totals[i]}
                for i, period in enumerate(dash.over_time.periods)
            ],
            "zone": timezone.get_current_timezone_name(),
        },
    )
