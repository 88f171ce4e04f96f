"""Who may do what in the parts warehouse. Permissions of models not yet migrated are skipped by sync_roles."""

from dms.core import roles

_CATALOGUE_VIEW = ["parts.view_part", "parts.view_supplier"]
_CATALOGUE_EDIT = ["parts.add_part", "parts.change_part", "parts.add_supplier", "parts.change_supplier"]
# Purchase prices (issue 15 item 5): what parts cost us — the parts department and the directors, not the front desk.
_PURCHASE_PRICES_VIEW = ["parts.view_supplierprice"]
_PURCHASE_PRICES_EDIT = ["parts.add_supplierprice", "parts.change_supplierprice"]
# Seeing stock (advisors check it when booking jobs, R17).
_STOCK_VIEW = [
    "parts.view_warehouse",
    "parts.view_location",
    "parts.view_stockbalance",
    "parts.view_stockmovement",
    "parts.view_reservation",
    "parts.view_lowstockalert",
]
# Moving stock: receipts, issues, transfers, reservations.
_STOCK_MOVE = ["parts.add_stockmovement", "parts.add_reservation", "parts.change_reservation"]
_WAREHOUSE_SETUP = [
    "parts.add_warehouse",
    "parts.change_warehouse",
    "parts.add_location",
    "parts.change_location",
    "parts.change_stockbalance",  # bin and alert level (R27)
]
_COUNT_WORK = ["parts.view_stockcount", "parts.add_stockcount", "parts.change_stockcount"]
_SALES_VIEW = ["parts.view_salesorder"]
_SALES_WORK = ["parts.add_salesorder", "parts.change_salesorder", "parts.record_payment_salesorder"]
_RETURNS_VIEW = ["parts.view_returnrequest"]
_RETURNS_WORK = ["parts.add_returnrequest", "parts.change_returnrequest", "parts.decide_returnrequest"]
_REQ_VIEW = ["parts.view_requisition", "parts.view_oldpartreturn"]

ROLE_PERMISSIONS = {
    roles.SERVICE_ADVISOR: [
        *_CATALOGUE_VIEW,
        *_STOCK_VIEW,
        *_REQ_VIEW,
        "parts.add_requisition",  # on behalf of the technician (R32)
    ],
    roles.PARTS_MANAGER: [
        *_CATALOGUE_VIEW,
        *_CATALOGUE_EDIT,
        *_PURCHASE_PRICES_VIEW,
        *_PURCHASE_PRICES_EDIT,
        *_STOCK_VIEW,
        *_STOCK_MOVE,
        *_WAREHOUSE_SETUP,
        *_COUNT_WORK,
        *_SALES_VIEW,
        *_SALES_WORK,
        "parts.ship_salesorder",
        *_RETURNS_VIEW,
        *_RETURNS_WORK,
        "parts.complete_returnrequest",
        *_REQ_VIEW,
        "parts.add_requisition",
        "parts.approve_requisition",  # the supervisor (R32)
        "parts.run_abc_classification",
        "parts.view_stock_value_report",
        "parts.view_job_cost_report",
    ],
    roles.STOREKEEPER: [
        *_CATALOGUE_VIEW,
        *_STOCK_VIEW,
        *_STOCK_MOVE,
        *_WAREHOUSE_SETUP,  # issue 15 item 9: the storekeeper keeps the warehouses and bins
        *_COUNT_WORK,
        *_SALES_VIEW,
        "parts.ship_salesorder",
        *_RETURNS_VIEW,
        "parts.complete_returnrequest",
        *_REQ_VIEW,
        "parts.issue_requisition",
        "parts.add_oldpartreturn",
    ],
    roles.WARRANTY_ENGINEER: [*_CATALOGUE_VIEW, *_STOCK_VIEW, *_RETURNS_VIEW, "parts.inspect_returnrequest"],
    # The technical department checks returns for quality defects (R29).
    roles.QUALITY_INSPECTOR: [*_CATALOGUE_VIEW, *_STOCK_VIEW, *_RETURNS_VIEW, "parts.inspect_returnrequest"],
    # Head of parts / directors: read everything, approve count adjustments (R26) and requisitions, see reports.
    roles.DIRECTOR: [
        *_CATALOGUE_VIEW,
        *_PURCHASE_PRICES_VIEW,
        *_STOCK_VIEW,
        "parts.view_stockcount",
        "parts.approve_stockcount",
        *_SALES_VIEW,
        *_RETURNS_VIEW,
        "parts.decide_returnrequest",
        *_REQ_VIEW,
        "parts.approve_requisition",
        "parts.run_abc_classification",
        "parts.view_stock_value_report",
        "parts.view_job_cost_report",
    ],
}
