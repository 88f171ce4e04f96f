"""How apps add to core pages without dms/core importing them: each installed app's optional ``panels`` module,
found through the app registry (like the admin's autodiscovery)."""

from importlib import import_module

from django.apps import apps


def app_panel_modules() -> list:
    """Each installed app's optional ``panels`` module: how apps add to core pages without dms/core importing them.

    Hooks a ``panels`` module may define (all optional):
    - ``customer_panel(request, customer) -> html | None``: a card on the customer page;
    - ``home_panels(request) -> [html, ...]``: cards on the home dashboard (issue 14 item 5);
    - ``my_calls_panels(request) -> [html, ...]``: cards on «Мои звонки» (issue 17 item 5: service follow-ups);
    - ``ROLE_LANDINGS = {role: "namespace:url_name" or "namespace:url_name?query"}``: where a role's day starts;
    - ``REPORTS = [("namespace:url_name", label, "app.permission")]``: links on the reports page.
    """
    modules = []
    for app_config in apps.get_app_configs():
        try:
            modules.append(import_module(f"{app_config.name}.panels"))
        except ModuleNotFoundError:
            continue
    return modules
