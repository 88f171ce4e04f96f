from django.middleware.locale import LocaleMiddleware


class RussianFirstLocaleMiddleware(LocaleMiddleware):
    """Pages speak Russian until the user picks another language (cookie); API clients may ask by Accept-Language."""

    def process_request(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
