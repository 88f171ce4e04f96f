from django.utils.functional import SimpleLazyObject

from .tenancy import active_dealership


class ActiveDealershipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.dealership = SimpleLazyObject(lambda: active_dealership(request))
        return self.get_response(request)
