"""Management requests may load a step tariff by IR: the new kind and its command.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OLD = "kind IN ('clear_credit', 'clear_tamper', 'set_tariff', 'key_change')"
_NEW = "kind IN ('clear_credit', 'clear_tamper', 'set_tariff', 'key_change', 'load_tariff')"


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("management_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ir_command", sa.String(length=250), nullable=True))
        batch_op.drop_constraint(op.f("ck_management_requests_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_management_requests_kind"), sa.text(_NEW))


def downgrade() -> None:
    """Undo this revision (load_tariff requests must be gone first)."""
    with op.batch_alter_table("management_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_management_requests_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_management_requests_kind"), sa.text(_OLD))
        batch_op.drop_column("ir_command")
