from django.middleware.locale import LocaleMiddleware


class RussianFirstLocaleMiddleware(LocaleMiddleware):
    """Pages speak Russian until the user picks another language (cookie); API clients may ask by Accept-Language."""

    def process_request(self, request):
        if not request.path.startswith("/api/"):
            # Kept aside for the customer's pages (dms.core.links): a customer without a stored language gets
            # their browser's (issue 17); staff pages stay Russian-first.
            request.accept_language = request.META.pop("HTTP_ACCEPT_LANGUAGE", "")
        super().process_request(request)
