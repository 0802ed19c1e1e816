from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from contacts.throttle import ThrottledAuthenticationForm
from contacts.views import accounts

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before Django's own auth URLs, so these names resolve to the throttled views.
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
         name="login"),
    path("accounts/password_reset/", accounts.password_reset, name="password_reset"),
    path("accounts/delete/", accounts.account_delete, name="account_delete"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("contacts.urls")),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("contacts.sandbox.urls")))
