from django.urls import path

from contacts.views import accounts, attempts, dashboard, directory, live, liveview, ops, profiles, reviews, searches

urlpatterns = [
    path("", searches.home, name="home"),
    path("signup/", accounts.signup, name="signup"),
    path("account/time-zone/", accounts.set_time_zone, name="set_time_zone"),
    # Customer profiles
    path("profiles/", profiles.profile_list, name="profile_list"),
    path("profiles/new/", profiles.profile_create, name="profile_create"),
    path("profiles/validate/", profiles.profile_validate, name="profile_validate"),
    path("profiles/<int:pk>/", profiles.profile_edit, name="profile_edit"),
    path("profiles/<int:pk>/delete/", profiles.profile_delete, name="profile_delete"),
    path("profiles/<int:pk>/contacted/", profiles.profile_contacted, name="profile_contacted"),
    # Searches and contacting
    path("searches/", searches.search_list, name="search_list"),
    path("searches/new/", searches.search_create, name="search_create"),
    path("searches/<int:pk>/", searches.search_detail, name="search_detail"),
    path("searches/<int:pk>/contact/", searches.search_contact, name="search_contact"),
    path("searches/<int:pk>/cancel/", searches.search_cancel, name="search_cancel"),
    path("searches/<int:pk>/bulk/", searches.search_bulk, name="search_bulk"),
    path("searches/<int:pk>/refresh/", searches.search_refresh, name="search_refresh"),
    path("searches/<int:pk>/export.csv", searches.search_export, name="search_export"),
    path("searches/<int:pk>/follow-up/", searches.search_follow_up, name="search_follow_up"),
    path("searches/<int:pk>/send-reviewed/", reviews.search_send_reviewed, name="search_send_reviewed"),
    path("searches/<int:pk>/events/", live.search_events, name="search_events"),
    path("searches/<int:pk>/refresh-osm/", directory.refresh_from_osm, name="search_refresh_osm"),
    # Attempts
    path("attempts/export.csv", attempts.attempts_export, name="attempts_export"),
    path("attempts/<int:pk>/", attempts.attempt_detail, name="attempt_detail"),
    path("attempts/<int:pk>/cancel/", attempts.attempt_cancel, name="attempt_cancel"),
    path("attempts/<int:pk>/review/send/", reviews.attempt_review_send, name="attempt_review_send"),
    path("attempts/<int:pk>/review/edit/", reviews.attempt_review_send, {"edited": True}, name="attempt_review_edit"),
    path("attempts/<int:pk>/review/skip/", reviews.attempt_review_skip, name="attempt_review_skip"),
    path("attempts/<int:pk>/screenshots/<str:which>/", attempts.attempt_screenshot, name="attempt_screenshot"),
    path("attempts/<int:pk>/live/", liveview.live_view_page, name="live_view"),
    path("attempts/<int:pk>/live/open/", liveview.live_view_open, name="live_view_open"),
    path("attempts/<int:pk>/solve-myself/", liveview.live_view_solve_myself, name="live_view_solve_myself"),
    path("attempts/<int:pk>/live/input/", liveview.live_view_input, name="live_view_input"),
    path("attempts/<int:pk>/live/stream/", liveview.live_view_stream, name="live_view_stream"),
    # Dashboard and operations
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics_view, name="metrics"),
]
