"""The WSGI app under the settings already configured (tests); production uses dms.wsgi."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
