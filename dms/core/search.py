"""Free-text search of every list page and list API (issue 19 item 3): one mechanism, the same rows as a plain
``icontains`` filter, plans that stop at the page's LIMIT.

A list's selector calls :func:`text_search` with the columns it searches. Each column is compared with ``icontains``
(``UPPER(column) LIKE UPPER('%text%')``, answered by the ``*_trgm`` GIN trigram indexes when the text is rare); a
column of a related row (a work order's ``customer__name``, a customer's ``vehicles__vin``) is tested by a scalar
subquery per row instead of a join. For a text many rows share (a word of half the names, one digit) PostgreSQL
then walks the list's order index row by row and stops as soon as the page is full — a join needs ``DISTINCT`` over
every match, and ``EXISTS`` under ``OR`` becomes a hashed subplan that reads every matching related row before the
first one is shown.

Which of the two plans a text gets is decided by a probe (on PostgreSQL, for a text of three characters or more —
what a trigram index answers): one query asks each searched column for at most ``SEARCH_PROBE + 1`` matching ids,
each from its trigram index. A rare text (every column under the probe) then filters by those few ids; a common one
is tested row by row as above, and its count is known to exceed the cap without being read.

The searched queryset is marked (on its ``Query``, so the mark survives ``filter``/``defer``/``order_by`` in the
views): :class:`dms.core.pagination.CappedCountPaginator` counts a searched list only up to ``SEARCH_COUNT_CAP`` rows —
counting 1,000 matches of a common text read forty times the rows of the page itself.
"""

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connections
from django.db.models import Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL

# A searched list (pages and APIs) counts up to this many matches (issue 19 item 3; 1,000 before).
SEARCH_COUNT_CAP = 250
# How many ids the probe asks each column for: up to this many matches a text is "rare" and read by its ids (a text
# of 256 work orders' VINs walked 10,000 rows of the list's index row by row for one page: 200 ms).
SEARCH_PROBE = 1_000
# pg_trgm indexes answer a substring of at least three characters; a shorter one is always tested row by row.
TRIGRAM = 3
# The marks on a searched queryset's Query (read by CappedCountPaginator).
SEARCHED = "dms_text_search"
COUNT_FLOOR = "dms_count_floor"


def text_search(qs: QuerySet, text: str, *fields: str, extra: tuple[Q, ...] | list[Q] = ()) -> QuerySet:
    """The rows of ``qs`` where any of ``fields`` contains ``text`` (case-insensitive) or any ``extra`` condition
    holds (a normalised phone or VIN); ``qs`` unchanged for an empty text.

    Same rows, same order as ``qs.filter(Q(f1__icontains=text) | …).distinct()``: a many-valued field matches when
    any of its rows does. ``extra`` conditions are applied as they are, so they name columns of the row or of rows it
    points to (a many-valued one would repeat the row).
    """
    text = (text or "").strip()
    if not text:
        return qs
    found = _probe(qs, _sources(qs.model, text, fields, extra)) if len(text) >= TRIGRAM else None
    if found is not None and found.ids is not None:
        searched = qs.filter(pk__in=id_set(sorted(found.ids))) if found.ids else qs.none()
    else:
        searched = _row_match(qs, text, fields, extra)
    setattr(searched.query, SEARCHED, True)
    if found is not None and found.more_than_cap:
        # with the number of conditions it holds for: a filter added later (an API's ?status=) voids it
        setattr(searched.query, COUNT_FLOOR, (SEARCH_COUNT_CAP, len(searched.query.where.children)))
    return searched


def count_floor(qs) -> int | None:
    """A lower bound :func:`text_search` already knows of the count (the probe found more than the cap), as long as
    no filter was added since."""
    query = getattr(qs, "query", None)
    floor, conditions = getattr(query, COUNT_FLOOR, (None, None))
    return floor if floor is not None and len(query.where.children) == conditions else None


def id_set(ids: list[int]) -> RawSQL:
    """``IN (SELECT unnest(ids))``, not ``IN (1, 2, …)``: with a literal list PostgreSQL walked the list's order index
    testing each row against the 256 ids of a VIN substring (42,000 rows for a page of 25: 40 ms); an unnested set it
    joins by primary key and sorts (1 ms)."""
    return RawSQL("SELECT unnest(%s::bigint[])", [ids])


def _sources(model: type[Model], text: str, fields: tuple[str, ...], extra) -> list[tuple[Q, bool]]:
    """The probe's sources: the row's own columns as one condition (PostgreSQL ORs their trigram indexes), each
    related row's columns as one; ``(condition, own columns)``. Fewer parts, less to plan and fetch: the probe of
    six single columns cost more than the page it chose the plan for."""
    groups: dict[str, Q] = {}
    for field in fields:
        key = _relation_prefix(model, field)[0]
        groups[key] = groups.get(key, Q()) | Q(**{f"{field}__icontains": text})
    for n, condition in enumerate(extra):
        key = _extra_group(model, condition)
        key = f"extra {n}" if key is None else key
        groups[key] = groups.get(key, Q()) | condition
    return [(condition, key == "") for key, condition in groups.items()]


def _extra_group(model: type[Model], condition: Q) -> str | None:
    """The group of an extra condition: ``""`` on the row's columns, a relation's name on its row's; ``None`` when
    it mixes them or is nested."""
    lookups = [child[0] for child in condition.children if isinstance(child, tuple)]
    if not lookups or len(lookups) != len(condition.children):
        return None
    try:
        keys = {_relation_prefix(model, lookup)[0] for lookup in lookups}
    except FieldDoesNotExist:  # ``pk__in`` and the like
        return None
    return keys.pop() if len(keys) == 1 else None


class _Probe:
    def __init__(self, ids: set | None, more_than_cap: bool):
        self.ids, self.more_than_cap = ids, more_than_cap


def _probe(qs: QuerySet, sources: list[tuple[Q, bool]]) -> _Probe | None:
    """Each source's first ``SEARCH_PROBE + 1`` matching ids in one ``UNION ALL`` query (PostgreSQL; ``None``
    elsewhere — SQLite's compound queries take no LIMIT, and its lists are small)."""
    if connections[qs.db].vendor != "postgresql":
        return None
    # A column of the row is probed in the list's order: a common text's first matches are where the page's index
    # starts (a physical scan passed 20,000 older rows first). A related row's column in any order: walking the list
    # and reading each row's customer to find 1,000 matches of a tenth of the rows cost 50 ms; the planner joins.
    parts = [
        (qs if own_column else qs.order_by())
        .filter(source)
        .annotate(search_source=Value(n))
        .values_list("search_source", "pk")[: SEARCH_PROBE + 1]
        for n, (source, own_column) in enumerate(sources)
    ]
    probe = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    # Up to a thousand ids per source, read straight from the cursor: through the queryset each row went through
    # Django's converters, 2–4 ms of a searched page for a common text (issue 19 item 3). Both columns are integers.
    try:
        sql, params = probe.query.get_compiler(qs.db).as_sql()
    except EmptyResultSet:  # a list that cannot hold a row (no dealership in scope): nothing to ask, as Django does
        fetched = []
    else:
        with connections[qs.db].cursor() as cursor:
            cursor.execute(sql, params)
            columns = [column[0] for column in cursor.description]
            source, key = columns.index("search_source"), columns.index("pk")  # by name, whatever order Django chose
            fetched = [(row[source], row[key]) for row in cursor.fetchall()]
    rows: dict[int, list] = {}
    for n, pk in fetched:
        rows.setdefault(n, []).append(pk)
    ids = {pk for pks in rows.values() for pk in pks}
    if all(len(pks) <= SEARCH_PROBE for pks in rows.values()):
        return _Probe(ids, more_than_cap=len(ids) > SEARCH_COUNT_CAP)
    # A column matched more rows than the probe: the row-by-row plan. A many-valued column repeats its row (a
    # customer's two matching cars), so only distinct ids prove the count exceeds the cap.
    return _Probe(None, more_than_cap=any(len(set(pks)) > SEARCH_COUNT_CAP for pks in rows.values()))


def _row_match(qs: QuerySet, text: str, fields: tuple[str, ...], extra) -> QuerySet:
    """The search tested on each row; a related row's column by a scalar subquery (its first matching related row),
    not a join: PostgreSQL estimated a joined ``OR`` as rare (a VIN substring of 256 work orders: 18) and hashed
    every work order, customer and vehicle before sorting them (300 ms) instead of walking the list's index."""
    condition = Q()
    many: dict[str, list[str]] = {}
    for field in fields:
        relation, rest = _relation_prefix(qs.model, field)
        if relation:
            many.setdefault(relation, []).append(rest)
        else:
            condition |= Q(**{f"{field}__icontains": text})
    for n, (relation, rest_fields) in enumerate(many.items()):
        match = Q()
        for rest in rest_fields:
            match |= Q(**{f"{rest}__icontains": text})
        alias = f"text_search_{n}"
        related = _related_rows(qs.model, relation).filter(match).order_by().values("pk")[:1]
        qs = qs.alias(**{alias: Subquery(related)})
        condition |= Q(**{f"{alias}__isnull": False})
    for more in extra:
        condition |= more
    return qs.filter(condition)


def is_searched(qs) -> bool:
    """Was ``qs`` narrowed by :func:`text_search` (or marked by a selector with its own search)?"""
    return bool(getattr(getattr(qs, "query", None), SEARCHED, False))


def mark_searched(qs: QuerySet) -> QuerySet:
    """Mark a queryset searched by a selector's own mechanism (the order dashboard's probes), for the count cap."""
    setattr(qs.query, SEARCHED, True)
    return qs


def _relation_prefix(model: type[Model], path: str) -> tuple[str, str]:
    """``("vehicles", "vin")`` for ``vehicles__vin`` (``vehicles`` a relation of ``model``); ``("", path)`` for a
    column of the row itself."""
    first, _sep, rest = path.partition("__")
    if rest and model._meta.get_field(first).is_relation:
        return first, rest
    return "", path


def _related_rows(model: type[Model], relation: str) -> QuerySet:
    """The related model's rows of the outer row: the one it points to, or those pointing to it."""
    field = model._meta.get_field(relation)
    related = field.related_model._default_manager
    if field.concrete and (field.many_to_one or field.one_to_one):  # a foreign key of ``model``
        return related.filter(**{field.target_field.attname: OuterRef(field.attname)})
    if field.auto_created and not field.concrete:  # reverse foreign key or reverse many-to-many
        return related.filter(**{field.field.name: OuterRef("pk")})
    return related.filter(**{field.related_query_name(): OuterRef("pk")})  # a many-to-many declared on ``model``
