"""One JSON request in, one JSON answer out: the line-by-line form of the batch API.

:mod:`stsgas.sts.batch` sends every line it cannot take in bulk (class 1
and 2, currency, key changes, anything malformed) here, and its tests hold
the bulk path to give exactly what these functions give. Every failure
becomes ``{"error": {"code", "message"}}`` with the library's stable code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from stsgas import sts
from stsgas.sts.amount import CURRENCY_UNIT, GAS_UNIT
from stsgas.sts.codec import decode, encode
from stsgas.sts.errors import StsError
from stsgas.sts.keys import DecoderKey, MeterConfig
from stsgas.sts.tid import BaseDate, datetime_for_tid, tid_for
from stsgas.sts.tokens import ALL_REGISTERS, Token
from stsgas.sts.vend import credit_token_at_tid, key_change_tokens, to_decimal

__all__ = ["BadJson", "InputError", "decode_line", "describe", "encode_line", "safe"]

Json = dict[str, Any]


class InputError(StsError, ValueError):
    """A request whose shape is wrong (a missing or mistyped field)."""

    code = "input"


class BadJson:
    """Stands for a line that is not JSON; :func:`safe` turns it into a ``json`` error."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


_METERS: dict[Hashable, MeterConfig] = {}
_TIMES: dict[tuple[str, int], int] = {}


def meter_of(doc: Any) -> MeterConfig:
    """The meter of a JSON object, cached by its exact serialised form.

    The key is the object re-serialised, not its items: ``1``, ``1.0`` and
    ``true`` are equal as dict values but can make different meters.
    """
    if not isinstance(doc, dict):
        raise InputError("'meter' must be an object")
    try:
        key: Hashable = orjson.dumps(doc)
    except TypeError:
        return MeterConfig.from_json(doc)
    meter = _METERS.get(key)
    if meter is None:
        if len(_METERS) > 100_000:
            _METERS.clear()
        meter = _METERS[key] = MeterConfig.from_json(doc)
    return meter


def tid_of(tok: Json, base_date: BaseDate) -> int:
    """The TID a request gives (``tid``) or asks for (``issued``, cached per text)."""
    if "tid" in tok:
        tid = tok["tid"]
        if not isinstance(tid, int) or isinstance(tid, bool) or not 0 <= tid <= sts.TID_MAX:
            raise sts.TidError(f"'tid' must be an integer 0..{sts.TID_MAX}")
        return tid
    issued = tok.get("issued")
    if not isinstance(issued, str):
        raise InputError("token needs 'issued' (ISO 8601 UTC time) or 'tid'")
    cache_key = (issued, int(base_date))
    tid = _TIMES.get(cache_key)
    if tid is None:
        try:
            at = datetime.fromisoformat(issued)
        except ValueError:
            raise InputError(f"'issued' is not an ISO 8601 time: {issued!r}") from None
        tid = tid_for(at, base_date)
        if len(_TIMES) > 200_000:
            _TIMES.clear()
        _TIMES[cache_key] = tid
    return tid


def _int(tok: Json, name: str, default: int | None = None) -> int:
    value = tok.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"token field {name!r} must be an integer")
    return value


def amount_of(tok: Json) -> Decimal:
    """The requested amount: a decimal string (or int), never a JSON float."""
    raw = tok.get("amount")
    if isinstance(raw, float):
        raise InputError("'amount' must be a decimal string, not a JSON float")
    if raw is None:
        raise InputError("token needs 'amount'")
    return to_decimal(raw)


def units_text(units: int) -> str:
    """A gas credit in its JSON form: ``units`` × GAS_UNIT (``125`` → ``"12.5"``)."""
    return str(units * GAS_UNIT)


def _currency_text(value: int) -> str:
    return str(value * CURRENCY_UNIT)


def _class0(tok: Json, meter: MeterConfig, subclass: int) -> Json:
    """A credit line through the library's recipe (the TID is the request's)."""
    tid = tid_of(tok, meter.base_date)
    amount = amount_of(tok)
    rnd = _int(tok, "rnd", 0) if subclass <= 3 else 0
    issued = credit_token_at_tid(meter, amount, tid=tid, rnd=rnd, subclass=subclass)
    return {
        "token": issued.digits,
        "decoder_key": meter.key().hex(),
        "tid": tid,
        "amount": str(issued.amount),
    }


def _class2(tok: Json, tid: int, subclass: int) -> Token:
    rnd = _int(tok, "rnd", 0)
    if subclass == 1:
        register = tok.get("register", "all")
        reg = ALL_REGISTERS if register == "all" else register
        if not isinstance(reg, int) or isinstance(reg, bool):
            raise InputError("'register' must be a number or \"all\"")
        return sts.ClearCredit(tid=tid, rnd=rnd, register=reg)
    if subclass == 5:
        return sts.ClearTamper(tid=tid, rnd=rnd)
    if subclass == 10:
        return sts.ExtendedToken(
            tid=tid, rnd=rnd, index=_int(tok, "index"), value=_int(tok, "value")
        )
    value = _int(tok, "value")
    builders: dict[int, Callable[[], Token]] = {
        0: lambda: sts.MaxPowerLimit(tid=tid, rnd=rnd, watts=value),
        2: lambda: sts.TariffRate(tid=tid, rnd=rnd, rate=value),
        6: lambda: sts.MaxPhasePowerUnbalance(tid=tid, rnd=rnd, watts=value),
        7: lambda: sts.WaterMeterFactor(tid=tid, rnd=rnd, factor=value),
    }
    if subclass not in builders:
        raise sts.UnsupportedTokenType(f"class 2 subclass {subclass} is not a register token")
    return builders[subclass]()


def encode_line(doc: Any) -> Json:
    """Encode one request object; raises on bad input (see :func:`safe`)."""
    if not isinstance(doc, dict):
        raise InputError("each line must be a JSON object")
    meter = meter_of(doc.get("meter"))
    tok = doc.get("token")
    if not isinstance(tok, dict):
        raise InputError("'token' must be an object")
    cls = _int(tok, "class", 0)
    subclass = _int(tok, "subclass", 2 if cls == 0 else 0)
    key = meter.key()
    if cls == 0:
        if not 0 <= subclass <= 7:
            raise sts.UnsupportedTokenType(f"class 0 has no subclass {subclass}")
        return _class0(tok, meter, subclass)
    if cls == 1:
        test = sts.TestToken(
            subclass=subclass, control=_int(tok, "control"), mfr_code=_int(tok, "mfr_code", 0)
        )
        return {"token": encode(test, key), "decoder_key": key.hex()}
    if (cls == 2 and subclass in (3, 4, 8, 9)) or "new_meter" in tok:
        new = meter_of(tok.get("new_meter"))
        rollover = tok.get("rollover")
        if rollover is not None and not isinstance(rollover, bool):
            raise InputError("'rollover' must be true or false")
        issued = key_change_tokens(meter, new, rollover=rollover)
        return {
            "tokens": [t.digits for t in issued],
            "decoder_key": key.hex(),
            "new_decoder_key": new.key().hex(),
        }
    if cls == 2:
        tid = tid_of(tok, meter.base_date)
        token = _class2(tok, tid, subclass)
        return {"token": encode(token, key), "decoder_key": key.hex(), "tid": tid}
    raise sts.UnsupportedTokenType(f"token class {cls} cannot be issued")


def decode_key(doc: Json) -> tuple[DecoderKey | None, BaseDate | None]:
    """The decoder key and base date a decode request gives (``meter``, or ``decoder_key``)."""
    if "meter" in doc:
        meter = meter_of(doc["meter"])
        return meter.key(), meter.base_date
    base = doc.get("base_date")
    bd = None if base is None else BaseDate.parse(base)
    hexkey = doc.get("decoder_key")
    if hexkey is None:
        return None, bd
    if not isinstance(hexkey, str):
        raise InputError("'decoder_key' must be a hex string")
    try:
        raw = bytes.fromhex(hexkey)
    except ValueError:
        raise sts.DecoderKeyError("decoder_key is not valid hex") from None
    ea = sts.EA.parse(doc.get("ea", "11" if len(raw) == 16 else "07"))
    return DecoderKey(raw, ea), bd


def describe(token: Token, base_date: BaseDate | None) -> Json:
    """The JSON fields of a decoded token."""
    out: Json = {"class": token.token_class, "subclass": token.subclass}
    tid = getattr(token, "tid", None)
    if tid is not None:
        out["tid"] = tid
        if base_date is not None:
            out["issued"] = datetime_for_tid(tid, base_date).strftime("%Y-%m-%dT%H:%MZ")
    if isinstance(token, sts.CreditToken):
        out |= {"rnd": token.rnd, "amount": units_text(token.units)}
    elif isinstance(token, sts.CurrencyCreditToken):
        out["amount"] = _currency_text(token.amount)
    else:
        for f in dataclasses.fields(token):
            if f.name not in {"tid", "token_class", "subclass"}:
                out[f.name] = getattr(token, f.name)
        if isinstance(token, sts.ClearCredit):
            out["register"] = "all" if token.register == ALL_REGISTERS else token.register
    return out


def decode_line(doc: Any) -> Json:
    """Decode one ``{"token", "meter"|"decoder_key"}`` object."""
    if not isinstance(doc, dict):
        raise InputError("each line must be a JSON object")
    digits = doc.get("token")
    if not isinstance(digits, str):
        raise sts.TokenFormatError("'token' must be a string of 20 digits")
    key, base_date = decode_key(doc)
    return describe(decode(digits, key), base_date)


def safe(fn: Callable[[Any], Json], doc: Any) -> tuple[Json, bool]:
    """Run a line function; turn a bad line into an error object. Returns (output, ok)."""
    if isinstance(doc, BadJson):
        return {"error": {"code": "json", "message": doc.message}}, False
    try:
        return fn(doc), True
    except (StsError, InputError) as exc:
        return {"error": {"code": exc.code, "message": str(exc)}}, False
    except (TypeError, ValueError, KeyError) as exc:
        return {"error": {"code": "input", "message": str(exc) or type(exc).__name__}}, False
