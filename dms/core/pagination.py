from django.core.paginator import InvalidPage, Paginator
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from .search import SEARCH_COUNT_CAP, count_floor, is_searched


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CappedCountPaginator(Paginator):
    """Counts at most ``count_cap`` rows: an exact ``COUNT(*)`` over a dealership's 100,000 orders costs more than
    fetching the page itself, and nobody pages through more than 200 pages — they narrow the filter instead.

    Up to the cap the count is exact; above it ``count`` is the cap, ``count_is_exact`` is False and the pages end
    there (as search engines do).
    """

    count_cap = 10_000

    def __init__(self, *args, count_cap: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if count_cap is not None:
            self.count_cap = count_cap

    @cached_property
    def _capped_count(self) -> int:
        object_list = self.object_list
        floor = getattr(object_list, "count_floor", None)
        if floor is None:
            floor = count_floor(object_list)  # dms.core.search's probe found more matches than it counts
        if is_searched(object_list):
            # Issue 19 item 3: a search counts at most SEARCH_COUNT_CAP matches — counting 1,000 matches of a common
            # text read forty times the rows of the page itself; to see past them, the text is narrowed.
            self.count_cap = min(self.count_cap, SEARCH_COUNT_CAP)
        if floor is not None:
            # The selector already knows more than ``floor`` rows match (a search by a common text, issue 19):
            # counting them would read every match; the pages end at the floor instead.
            self.count_cap = min(self.count_cap, floor)
            return self.count_cap + 1
        if hasattr(object_list, "order_by"):
            # Ordering does not change a count: without it PostgreSQL stops after cap + 1 index entries.
            # Only the ids: computed columns of the rows (annotations) are not evaluated for the count (issue 19).
            rows = object_list.order_by()
            if not rows.query.combinator and not rows.query.group_by:
                rows = rows.values("pk")
            return rows[: self.count_cap + 1].count()
        return min(len(object_list), self.count_cap + 1)

    @cached_property
    def count(self) -> int:
        return min(self._capped_count, self.count_cap)

    @property
    def count_is_exact(self) -> bool:
        return self._capped_count <= self.count_cap

    @property
    def num_pages_label(self) -> str:
        """ "400" — or "400+" when the count stopped at the cap (the pagination include shows it)."""
        return f"{self.num_pages}" if self.count_is_exact else f"{self.num_pages}+"



class CappedCountPagination(StandardPagination):
    """Every API list's pagination (issue 19; the orders' since issue 3): ``count`` is exact up to 10,000,
    ``count_is_exact`` says so — an exact ``COUNT(*)`` over 100,000 rows cost several times the page itself."""

    django_paginator_class = CappedCountPaginator

    def paginate_queryset(self, queryset, request, view=None):
        """The page as an unevaluated sliced queryset: the view picks the columns it reads (``values_list``)."""
        self.request = request
        page_size = self.get_page_size(request)
        # A searched list counts up to SEARCH_COUNT_CAP: a text many rows share would otherwise read 10,000 matches
        # only to count them (issue 19).
        cap = SEARCH_COUNT_CAP if request.query_params.get("search", "").strip() else None
        paginator = self.django_paginator_class(queryset, page_size, count_cap=cap)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(exc))) from exc
        return self.page.object_list

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_is_exact": self.page.paginator.count_is_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = (
            f"Number of matching rows, exact up to {CappedCountPaginator.count_cap:,}; above it the cap (narrow the "
            "filter to page further)"
        )
        response["properties"]["count_is_exact"] = {"type": "boolean", "example": True}
        response["required"].append("count_is_exact")
        return response
