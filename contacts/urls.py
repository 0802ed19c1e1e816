from django.urls import path

from contacts.views import accounts, attempts, directory, live, profiles, searches

urlpatterns = [
    path("", searches.home, name="home"),
    path("signup/", accounts.signup, name="signup"),
    # Customer profiles
    path("profiles/", profiles.profile_list, name="profile_list"),
    path("profiles/new/", profiles.profile_create, name="profile_create"),
    path("profiles/validate/", profiles.profile_validate, name="profile_validate"),
    path("profiles/<int:pk>/", profiles.profile_edit, name="profile_edit"),
    path("profiles/<int:pk>/delete/", profiles.profile_delete, name="profile_delete"),
    # Searches and contacting
    path("searches/", searches.search_list, name="search_list"),
    path("searches/new/", searches.search_create, name="search_create"),
    path("searches/<int:pk>/", searches.search_detail, name="search_detail"),
    path("searches/<int:pk>/contact/", searches.search_contact, name="search_contact"),
    path("searches/<int:pk>/cancel/", searches.search_cancel, name="search_cancel"),
    path("searches/<int:pk>/events/", live.search_events, name="search_events"),
    path("searches/<int:pk>/refresh-osm/", directory.refresh_from_osm, name="search_refresh_osm"),
    # Attempts
    path("attempts/<int:pk>/", attempts.attempt_detail, name="attempt_detail"),
    path("attempts/<int:pk>/cancel/", attempts.attempt_cancel, name="attempt_cancel"),
    path("attempts/<int:pk>/screenshots/<str:which>/", attempts.attempt_screenshot, name="attempt_screenshot"),
]
