"""What the orders app adds to core pages (issue 14 item 5): the parts manager's day starts at the order dashboard."""

from dms.core import roles

ROLE_LANDINGS = {roles.PARTS_MANAGER: "orders:dashboard"}
