"""Meter readouts: the files read from meters in the field and what they carry.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 01:00:00

``readouts`` keeps each uploaded file once (unique SHA-256 of its bytes); the
monthly and hourly consumption, the event log and the settings as read are
merged per meter (one row per month, hour, (time, code) and setting name).
``meter_visits`` records that someone went to a meter, which clears its visit flag.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def _meter(table: str) -> list[SchemaItem]:
    return [
        sa.Column("meter_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f(f"fk_{table}_meter_id_meters")
        ),
    ]


def _source(table: str) -> list[SchemaItem]:
    return [
        sa.Column("readout_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["readout_id"], ["readouts.id"], name=op.f(f"fk_{table}_readout_id_readouts")
        ),
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "readouts",
        _id(),
        *_meter("readouts"),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("read_at", _AT, nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("registers", sa.JSON(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", _ID, nullable=True),
        sa.Column("uploaded_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["operators.id"], name=op.f("fk_readouts_uploaded_by_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readouts")),
        sa.UniqueConstraint("sha256", name=op.f("uq_readouts_sha256")),
    )
    op.create_table(
        "meter_monthly_use",
        _id(),
        *_meter("meter_monthly_use"),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("litres", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("read_at", _AT, nullable=False),
        *_source("meter_monthly_use"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_monthly_use")),
        sa.UniqueConstraint("meter_id", "month", name=op.f("uq_meter_monthly_use_meter_id_month")),
    )
    op.create_table(
        "meter_hourly_use",
        _id(),
        *_meter("meter_hourly_use"),
        sa.Column("hour", _AT, nullable=False),
        sa.Column("litres", sa.BigInteger(), nullable=False),
        sa.Column("read_at", _AT, nullable=False),
        *_source("meter_hourly_use"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_hourly_use")),
        sa.UniqueConstraint("meter_id", "hour", name=op.f("uq_meter_hourly_use_meter_id_hour")),
    )
    op.create_table(
        "meter_events",
        _id(),
        *_meter("meter_events"),
        sa.Column("at", _AT, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        *_source("meter_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_events")),
        sa.UniqueConstraint(
            "meter_id", "at", "code", name=op.f("uq_meter_events_meter_id_at_code")
        ),
    )
    op.create_table(
        "meter_read_settings",
        _id(),
        *_meter("meter_read_settings"),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=80), nullable=False),
        sa.Column("read_at", _AT, nullable=False),
        *_source("meter_read_settings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_read_settings")),
        sa.UniqueConstraint("meter_id", "name", name=op.f("uq_meter_read_settings_meter_id_name")),
    )
    op.create_table(
        "meter_visits",
        _id(),
        *_meter("meter_visits"),
        sa.Column("visited_at", _AT, nullable=False),
        sa.Column("operator_id", _ID, nullable=True),
        sa.Column("note", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_meter_visits_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_visits")),
    )
    for table in (
        "readouts",
        "meter_monthly_use",
        "meter_hourly_use",
        "meter_events",
        "meter_read_settings",
        "meter_visits",
    ):
        op.create_index(op.f(f"ix_{table}_meter_id"), table, ["meter_id"], unique=False)


def downgrade() -> None:
    """Undo this revision: the readouts and everything merged from them are dropped."""
    for table in (
        "meter_visits",
        "meter_read_settings",
        "meter_events",
        "meter_hourly_use",
        "meter_monthly_use",
        "readouts",
    ):
        op.drop_index(op.f(f"ix_{table}_meter_id"), table_name=table)
        op.drop_table(table)
