from django.urls import path

from contacts.sandbox import views

urlpatterns = [
    path("", views.sandbox_index, name="sandbox_index"),
    # The local stand-in for Google's reCAPTCHA loader (its base URL ends in /recaptcha/).
    path("recaptcha/api.js", views.recaptcha_loader, name="sandbox_recaptcha_loader"),
    path("recaptcha/api2/anchor.html", views.recaptcha_anchor, name="sandbox_recaptcha_anchor"),
    path("<slug:slug>/", views.site_home, name="sandbox_site"),
    path("<slug:slug>/contact/", views.site_contact, name="sandbox_contact"),
    path("<slug:slug>/lead-frame/", views.lead_frame, name="sandbox_lead_frame"),
    path("<slug:slug>/api/leads/", views.lead_api, name="sandbox_lead_api"),
    path("<slug:slug>/newsletter/", views.newsletter, name="sandbox_newsletter"),
    path("<slug:slug>/search/", views.site_search, name="sandbox_search"),
    path("<slug:slug>/thank-you/", views.thank_you, name="sandbox_thank_you"),
    path("<slug:slug>/<slug:page>/", views.info_page, name="sandbox_page"),
]
