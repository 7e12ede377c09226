"""A meter's commissioning settings, parsed from the scenario ``meter`` object."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from stsgas.meter._clock import zone
from stsgas.meter._state import SETTING_RANGES, Unit
from stsgas.meter.errors import MeterError
from stsgas.meter.state import Limits
from stsgas.meter.tariff import Tariff, money_to_units
from stsgas.sts import LITRES_PER_M3, MeterConfig, StsError

#: an IANA zone name (``Africa/Johannesburg``, ``Etc/GMT+2``): not the host's own
#: ``localtime``, nor the ``posix/``/``right/`` copies or ``posixrules`` the zone
#: folder also holds (all lower case), nor ``Factory``; a path cannot pass either
_IANA = re.compile(r"[A-Z][A-Za-z0-9_+-]*(/[A-Z][A-Za-z0-9_+-]*)*")

__all__ = ["CV_PER_VOLT", "MeterSettings", "SettingsError"]


#: a clock drifting more than this is broken, not slow (the sheet's bound is ~6 ppm)
MAX_DRIFT_PPM = 1000.0
#: centivolts in one volt: the records keep the battery levels in centivolts
#: (``Limits.battery_cv``), the settings and the IR command in volts
CV_PER_VOLT = 100


class SettingsError(MeterError, ValueError):
    """The meter object is malformed (the message names the field)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterSettings:
    """Commissioning values. Credit figures are in register units (litres or 1e-5 money)."""

    sts: MeterConfig
    mode: str = "volume"
    tariff: Tariff
    overdraft: int = 0
    recharge_limit: int | None = None
    low_credit_alarm: int = 0
    battery_levels_v: tuple[float, float] = (3.4, 3.2)
    battery_v: float = 3.6
    valve_clean_days: int = 30
    valve_clean_hour: int = 3
    hourly_record_days: int = 0
    initial_credit: int = 0
    tid_memory: int = 50
    rtc_drift_ppm: float = 0.0
    persist_every_l: int = 100
    #: the meter's IANA time zone: the billing day and the auto-clean hour are local times
    timezone: str = "UTC"
    #: the day of the month (1-28) whose local 00:00 starts a billing period
    billing_day: int = 1
    #: this meter's manufacturer code; a class 1 test token must carry it (or 0, all makers)
    mfr_code: int = 0
    #: gas safety: flow above this many litres an hour ... (None = excess-flow shut-off off)
    excess_flow_lph: int | None = None
    #: ... for this many seconds closes the valve
    excess_flow_s: int = 60
    #: gas safety: flow at or above this many litres an hour that never stops ... (None = off)
    leak_flow_lph: int | None = None
    #: ... for this many seconds closes the valve
    leak_s: int = 86400

    def parse_field(self, name: str, text: str) -> int | str | None:
        """A field setting's value text (contracts: fixed units, no floats) as the meter
        keeps it: register units, centivolts, litres an hour, whole numbers or a zone
        name; ``None`` for a recharge limit of ``none``. SettingsError (naming the
        setting) when the text is malformed or outside the safe range of
        ``_state.SETTING_RANGES``."""
        if name not in SETTING_RANGES:
            raise SettingsError(f"{name}: not a field setting")
        unit, lo, hi = SETTING_RANGES[name]
        if unit is Unit.ZONE:
            if not _IANA.fullmatch(text) or text == "Factory":
                raise SettingsError(f"{name}: {text!r} is not an IANA zone name")
            try:
                zone(text)
            except ValueError as exc:
                raise SettingsError(f"{name}: {exc}") from None
            return text
        if unit is Unit.CREDIT_OR_NONE and text == "none":
            return None
        places = {Unit.VOLTS: 2, Unit.INTEGER: 0}.get(unit, 3)
        shape = r"[0-9]{1,9}" + (rf"(\.[0-9]{{1,{places}}})?" if places else "")
        if not re.fullmatch(shape, text):
            raise SettingsError(f"{name}: {text!r} is not a number with up to {places} places")
        value = Decimal(text)
        if not Decimal(lo) <= value <= Decimal(hi):
            raise SettingsError(f"{name}: {text} is outside {lo} .. {hi}")
        if unit is Unit.VOLTS:
            return int(value * CV_PER_VOLT)
        if unit is Unit.FLOW:
            return int(value * LITRES_PER_M3)
        if unit is Unit.INTEGER:
            return int(value)
        return self.register_units(value, name)

    def limits(self) -> Limits:
        """The field settings these values give (what the ``cfg`` record keeps once set)."""
        l1, l2 = self.battery_levels_v
        return Limits(
            self.overdraft, self.recharge_limit, self.low_credit_alarm,
            (round(l1 * CV_PER_VOLT), round(l2 * CV_PER_VOLT)), self.valve_clean_days,
            self.excess_flow_lph, self.excess_flow_s, self.leak_flow_lph, self.leak_s,
        )  # fmt: skip

    def with_limits(self, lim: Limits) -> MeterSettings:
        """These settings with the field settings ``lim`` in force."""
        return replace(
            self, overdraft=lim.overdraft, recharge_limit=lim.recharge_limit,
            low_credit_alarm=lim.low_credit_alarm,
            battery_levels_v=(lim.battery_cv[0] / CV_PER_VOLT, lim.battery_cv[1] / CV_PER_VOLT),
            valve_clean_days=lim.clean_days, excess_flow_lph=lim.excess_lph,
            excess_flow_s=lim.excess_s, leak_flow_lph=lim.leak_lph, leak_s=lim.leak_s,
        )  # fmt: skip

    def register_units(self, value: object, what: str) -> int:
        """A decimal string of m3 (volume mode) or money (amount mode) in register units."""
        try:
            dec = Decimal(str(value))
        except InvalidOperation:
            raise SettingsError(f"meter.{what} is not a decimal: {value!r}") from None
        if self.mode == "volume":
            litres = dec * LITRES_PER_M3
            if litres != litres.to_integral_value():
                raise SettingsError(f"meter.{what} is finer than a litre")
            return int(litres)
        try:
            return money_to_units(dec)
        except ValueError as exc:
            raise SettingsError(f"meter.{what}: {exc}") from None

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> MeterSettings:
        """Parse and check; raises SettingsError with the field named."""
        if not isinstance(doc, dict):
            raise SettingsError("meter must be an object")
        try:
            sts = MeterConfig.from_json(doc)
        except StsError as exc:
            raise SettingsError(f"meter: {exc}") from None
        mode = doc.get("mode", "volume")
        if mode not in ("volume", "amount"):
            raise SettingsError("meter.mode is 'volume' or 'amount'")
        try:
            tariff = Tariff.from_json(doc.get("tariff", [{"up_to_m3": None, "price": "0"}]))
        except (ValueError, ArithmeticError) as exc:
            raise SettingsError(f"meter.tariff: {exc}") from None
        base = cls(sts=sts, mode=mode, tariff=tariff)  # for unit parsing
        levels = doc.get("battery_levels_v", [3.4, 3.2])
        try:
            l1, l2 = (float(v) for v in levels)
            limit = doc.get("recharge_limit")
            out = cls(
                sts=sts, mode=mode, tariff=tariff,
                overdraft=base.register_units(doc.get("overdraft", "0"), "overdraft"),
                recharge_limit=None if limit is None
                else base.register_units(limit, "recharge_limit"),
                low_credit_alarm=base.register_units(doc.get("low_credit_alarm", "0"),
                                                     "low_credit_alarm"),
                battery_levels_v=(l1, l2),
                battery_v=float(doc.get("battery_v", 3.6)),
                valve_clean_days=int(doc.get("valve_clean_days", 30)),
                valve_clean_hour=int(doc.get("valve_clean_hour", 3)),
                hourly_record_days=int(doc.get("hourly_record_days", 0)),
                initial_credit=base.register_units(doc.get("initial_credit", "0"),
                                                   "initial_credit"),
                tid_memory=int(doc.get("tid_memory", 50)),
                rtc_drift_ppm=float(doc.get("rtc_drift_ppm", 0.0)),
                persist_every_l=int(doc.get("persist_every_l", 100)),
                timezone=str(doc.get("timezone", "UTC")),
                billing_day=int(doc.get("billing_day", 1)),
                mfr_code=int(doc.get("mfr_code", 0)),
            )  # fmt: skip
        except (TypeError, ValueError) as exc:
            if isinstance(exc, SettingsError):
                raise
            raise SettingsError(f"meter: malformed field: {exc}") from None
        if not l2 < l1:
            raise SettingsError("meter.battery_levels_v is [level 1, level 2], level 2 lower")
        if out.tid_memory < 1 or out.valve_clean_days < 0 or out.hourly_record_days < 0:
            raise SettingsError("meter: tid_memory >= 1, valve_clean_days and hourly days >= 0")
        if not 0 <= out.mfr_code <= 0xFFFF:
            raise SettingsError("meter.mfr_code is 0..65535 (2- or 4-digit manufacturer code)")
        if out.overdraft < 0 or out.persist_every_l < 1:
            raise SettingsError("meter: overdraft >= 0 and persist_every_l >= 1")
        out.check_clock()
        return out.with_gas_safety(doc)

    def with_gas_safety(self, doc: dict[str, Any]) -> MeterSettings:
        """The gas-safety fields of a scenario ``meter`` object, read as the IR command
        reads them (strings or numbers; each within its ``SETTING_RANGES`` range)."""
        got: dict[str, Any] = {
            name: self.parse_field(name, str(doc[name]))
            for name in ("excess_flow_m3h", "excess_flow_s", "leak_flow_m3h", "leak_s")
            if name in doc
        }
        return replace(
            self,
            excess_flow_lph=got.get("excess_flow_m3h", self.excess_flow_lph),
            excess_flow_s=got.get("excess_flow_s", self.excess_flow_s),
            leak_flow_lph=got.get("leak_flow_m3h", self.leak_flow_lph),
            leak_s=got.get("leak_s", self.leak_s),
        )

    def check_clock(self) -> None:
        """The clock settings: a known zone, a billing day every month has, a real hour."""
        try:
            zone(self.timezone)
        except ValueError as exc:
            raise SettingsError(f"meter.timezone: {exc}") from None
        if not 1 <= self.billing_day <= 28:
            raise SettingsError("meter.billing_day is 1 to 28 (a day every month has)")
        if not 0 <= self.valve_clean_hour <= 23:
            raise SettingsError("meter.valve_clean_hour is 0 to 23")
        if not abs(self.rtc_drift_ppm) <= MAX_DRIFT_PPM:
            raise SettingsError(f"meter.rtc_drift_ppm is within +-{MAX_DRIFT_PPM}")
