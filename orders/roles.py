from dms.core import roles

_VIEW = ["orders.view_customerorder"]

ROLE_PERMISSIONS = {
    # Advisors create orders (seed 000) and cancel their customers' unplaced ones.
    roles.SERVICE_ADVISOR: [
        *_VIEW,
        "orders.add_customerorder",
        "orders.change_customerorder",
        "orders.cancel_customerorder",
        "orders.export_customerorder",
    ],
    roles.PARTS_MANAGER: [
        *_VIEW,
        "orders.add_customerorder",
        "orders.change_customerorder",
        "orders.place_customerorder",
        "orders.receive_customerorder",
        "orders.issue_customerorder",
        "orders.cancel_customerorder",
        "orders.return_customerorder",
        "orders.export_customerorder",
    ],
    roles.STOREKEEPER: [*_VIEW, "orders.receive_customerorder", "orders.issue_customerorder"],
    roles.WARRANTY_ENGINEER: _VIEW,
    roles.QUALITY_INSPECTOR: _VIEW,
    roles.DIRECTOR: [*_VIEW, "orders.export_customerorder"],
}
