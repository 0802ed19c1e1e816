import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealercontact.settings")

# Static files are served by WhiteNoise's middleware (see settings.MIDDLEWARE), in
# development and production alike.
application = get_asgi_application()
