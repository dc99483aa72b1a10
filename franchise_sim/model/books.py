"""The names the model's books are kept under, declared once for every module that reads them.

The columns of a business's monthly books (``MONTH_HEAD``, its own cost lines, then each
relationship's, then ``MONTH_TAIL``), the monthly uniforms every arm of a replication shares, the
reasons a business stops, and the shared random events whose counts a replication reports.
"""

from __future__ import annotations

# Columns of the monthly uniforms shared by every arm of a replication.
U_NEW, U_SPLIT, U_LOSS_LOYAL, U_LOSS_CASUAL, U_VISITS = range(5)
UNIFORMS_PER_MONTH = 5

MONTH_HEAD = (
    "customers",
    "new_customers",
    "lost_customers",
    "visits_demanded",
    "visits_served",
    "revenue",
)
"""First columns of a business's monthly record; the cost lines follow."""
MONTH_TAIL = (
    "operating_costs",
    "operating_profit",
    "interest",
    "principal",
    "owner_injection",
    "owner_draw",
    "asset_sale",
    "closure_costs",
    "cash_flow",
    "cash",
    "loan_balance",
    "satisfaction",
    "alive",
)
"""Last columns of a business's monthly record, after the cost lines."""

BUSINESS_COST_LINES = (
    "variable_costs",
    "payroll",
    "rent",
    "other_fixed",
    "marketing",
    "repairs",
    "recruiting",
)
"""Running-cost lines a business charges itself, in the books' order."""

INSOLVENT = "insolvent"
"""Closure reason: the business could not meet its obligations from cash and savings."""
GAVE_UP = "gave_up"
"""Closure reason: the owner went too long without a living from the business, or (with
``owner.review``) its earnings fell too far short of what the owner expected."""
OWNER_EXIT = "owner_exit"
"""Closure reason: the owner had to stop for personal reasons (health, family, a move)."""
SOLD = "sold"
"""Exit reason: the owner had to stop and sold the going business (``owner.sale``). Not a
failure, but an exit in survival, as BLS counts an establishment that changes hands."""
CLOSURE_REASONS = (INSOLVENT, GAVE_UP, OWNER_EXIT, SOLD)
OWNER_GOES_ON, OWNER_INSOLVENT, OWNER_GIVES_UP, OWNER_MUST_STOP = range(4)
"""What the compiled close of a month finds of each owner (`compiled_month.close_books_month`)."""
"""Every reason a business can stop, in the order reports list them."""

SHOCK_NAMES = (
    "competitor_entry",
    "recession",
    "equipment_breakdown",
    "key_staff_loss",
    "competitor_exit",
)
"""Random events shared by all arms, in the order their counts are reported."""
