"""The vending side's record of the tariff a meter itself holds (issue 10 point 11).

A load_tariff (IR) or set_tariff (class 2 TariffRate) request, once issued,
records what the meter will run: the tariff version or flat rate, from when,
and the IR counter used.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "loaded_tariff_version_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("loaded_tariff_rate", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("loaded_tariff_from", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("loaded_tariff_seq", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_meters_loaded_tariff_version_id_tariff_versions"),
            "tariff_versions",
            ["loaded_tariff_version_id"],
            ["id"],
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_meters_loaded_tariff_version_id_tariff_versions"), type_="foreignkey"
        )
        batch_op.drop_column("loaded_tariff_seq")
        batch_op.drop_column("loaded_tariff_from")
        batch_op.drop_column("loaded_tariff_rate")
        batch_op.drop_column("loaded_tariff_version_id")
