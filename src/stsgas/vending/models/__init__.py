"""All ORM models of stsgas.vending in one place (imports here avoid cycles).

Import models from this package: ``from stsgas.vending.models import Meter``.
"""

from stsgas.vending.models.audit import AuditEntry, IdempotencyRecord
from stsgas.vending.models.base import Base, UTCDateTime, utcnow
from stsgas.vending.models.customers import Customer, CustomerMeter, Meter
from stsgas.vending.models.enums import (
    AccountKind,
    Channel,
    FixedChargePeriod,
    IdempotencyState,
    ManagementKind,
    MeterMode,
    MeterStatus,
    RequestStatus,
    Role,
    SaleStatus,
    TokenKind,
)
from stsgas.vending.models.ledger import Account, LedgerEntry
from stsgas.vending.models.operators import ApiToken, LoginFailure, Operator, Vendor
from stsgas.vending.models.policies import CustomerClass, CustomerPolicy, FreeGasGrant
from stsgas.vending.models.readouts import (
    HourlyUse,
    MeterEvent,
    MeterVisit,
    MonthlyUse,
    Readout,
    ReadSetting,
)
from stsgas.vending.models.refunds import PayerRefund
from stsgas.vending.models.sales import ManagementRequest, Sale, Token
from stsgas.vending.models.supply import SupplyGroup
from stsgas.vending.models.tariffs import Tariff, TariffStep, TariffVersion
from stsgas.vending.models.wallet import PaidFrom, Payment, PaymentState, Wallet

__all__ = [
    "Account",
    "AccountKind",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Channel",
    "Customer",
    "CustomerClass",
    "CustomerMeter",
    "CustomerPolicy",
    "FixedChargePeriod",
    "FreeGasGrant",
    "HourlyUse",
    "IdempotencyRecord",
    "IdempotencyState",
    "LedgerEntry",
    "LoginFailure",
    "ManagementKind",
    "ManagementRequest",
    "Meter",
    "MeterEvent",
    "MeterMode",
    "MeterStatus",
    "MeterVisit",
    "MonthlyUse",
    "Operator",
    "PaidFrom",
    "PayerRefund",
    "Payment",
    "PaymentState",
    "ReadSetting",
    "Readout",
    "RequestStatus",
    "Role",
    "Sale",
    "SaleStatus",
    "SupplyGroup",
    "Tariff",
    "TariffStep",
    "TariffVersion",
    "Token",
    "TokenKind",
    "UTCDateTime",
    "Vendor",
    "Wallet",
    "utcnow",
]
