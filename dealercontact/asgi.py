import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealercontact.settings")

django_application = get_asgi_application()

# Static files are served by the app itself (no separate web server to set up); the
# handler passes every other request through to Django.
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

application = ASGIStaticFilesHandler(django_application)
