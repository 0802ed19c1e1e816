from csp.decorators import csp_exempt
from django.urls import path

from contacts.sandbox import views

# The sandbox dealer sites imitate real dealer websites, inline scripts and styles and
# all, so the app's Content-Security-Policy does not apply to them (it does to the index).
site = csp_exempt()

urlpatterns = [
    path("", views.sandbox_index, name="sandbox_index"),
    # The local stand-in for Google's reCAPTCHA loader (its base URL ends in /recaptcha/).
    path("recaptcha/api.js", site(views.recaptcha_loader), name="sandbox_recaptcha_loader"),
    path("recaptcha/api2/anchor.html", site(views.recaptcha_anchor), name="sandbox_recaptcha_anchor"),
    path("<slug:slug>/", site(views.site_home), name="sandbox_site"),
    path("<slug:slug>/contact/", site(views.site_contact), name="sandbox_contact"),
    path("<slug:slug>/lead-frame/", site(views.lead_frame), name="sandbox_lead_frame"),
    path("<slug:slug>/api/leads/", site(views.lead_api), name="sandbox_lead_api"),
    path("<slug:slug>/newsletter/", site(views.newsletter), name="sandbox_newsletter"),
    path("<slug:slug>/search/", site(views.site_search), name="sandbox_search"),
    path("<slug:slug>/thank-you/", site(views.thank_you), name="sandbox_thank_you"),
    path("<slug:slug>/<slug:page>/", site(views.info_page), name="sandbox_page"),
]
