"""The page routes of one kind of record, named by the layout (issue 13): each app's ``urls.py`` lists the same
list / new / detail / edit / action pages of its records, so one call names them from the model's name.

``record_pages("parts/returns/", "Return", views, "list", "create", "detail", "action")`` is

- ``parts/returns/`` → ``views.ReturnListView``, name ``return_list``;
- ``parts/returns/new/`` → ``views.ReturnCreateView``, ``return_create``;
- ``parts/returns/<int:pk>/`` → ``views.ReturnDetailView``, ``return_detail``;
- ``parts/returns/<int:pk>/edit/`` → ``views.ReturnUpdateView``, ``return_update`` ("update");
- ``parts/returns/<int:pk>/<str:action>/`` → ``views.ReturnActionView``, ``return_action`` ("action": the record's
  POST buttons, ``dms.core.views.ActionView``).

Without pages: list, create, detail and update. A page whose path, view or name does not follow these names is
written out with ``path()`` as usual.
"""

from types import ModuleType

from django.urls import URLPattern, path

PAGES = {
    "list": ("", "ListView"),
    "create": ("new/", "CreateView"),
    "detail": ("<int:pk>/", "DetailView"),
    "update": ("<int:pk>/edit/", "UpdateView"),
    "action": ("<int:pk>/<str:action>/", "ActionView"),
}
DEFAULT_PAGES = ("list", "create", "detail", "update")


def record_pages(prefix: str, model: str, views: ModuleType, *pages: str, name: str = "") -> list[URLPattern]:
    """The routes of ``pages`` (keys of PAGES) for the record ``model`` under ``prefix``; names start with ``name``
    (by default the model's name in lower case)."""
    name = name or model.lower()
    return [
        path(f"{prefix}{suffix}", getattr(views, f"{model}{view}").as_view(), name=f"{name}_{page}")
        for page in pages or DEFAULT_PAGES
        for suffix, view in [PAGES[page]]
    ]
