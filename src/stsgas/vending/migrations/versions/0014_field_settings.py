"""Management requests may change a meter's field settings by IR: the new kind.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 01:10:00

A ``field_settings`` request carries the settings and the IR counter; on approval
by a second person its signed command is stored in ``ir_command`` (0005).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_OLD = (
    "kind IN ('clear_credit', 'clear_tamper', 'set_tariff', 'key_change', 'load_tariff', "
    "'cancel_sale')"
)
_NEW = (
    "kind IN ('clear_credit', 'clear_tamper', 'set_tariff', 'key_change', 'load_tariff', "
    "'cancel_sale', 'field_settings')"
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("management_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_management_requests_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_management_requests_kind"), sa.text(_NEW))


def downgrade() -> None:
    """Undo this revision (field_settings requests must be gone first)."""
    with op.batch_alter_table("management_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_management_requests_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_management_requests_kind"), sa.text(_OLD))
