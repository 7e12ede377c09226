"""Management requests may take a cancelled sale back off the meter: the new kind.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:30:00

A cancel whose token was already entered is a four-eyes request
(``cancel_sale``); its tokens are made, and its money moves, on approval.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD = "kind IN ('clear_credit', 'clear_tamper', 'set_tariff', 'key_change', 'load_tariff')"
_NEW = (
    "kind IN ('clear_credit', 'clear_tamper', 'set_tariff', 'key_change', 'load_tariff', "
    "'cancel_sale')"
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("management_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_management_requests_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_management_requests_kind"), sa.text(_NEW))


def downgrade() -> None:
    """Undo this revision (cancel_sale requests must be gone first)."""
    with op.batch_alter_table("management_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_management_requests_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_management_requests_kind"), sa.text(_OLD))
