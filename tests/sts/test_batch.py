"""The batch API answers every line exactly as the line-by-line path does, in bulk."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.sts import MeterConfig, RangeError, StsError, credit_token_at_tid, lines
from stsgas.sts.batch import Answers, CreditRequest, credit_tokens, encode_lines, one_line
from stsgas.sts.batch_decode import decode_lines

DATA = Path(__file__).resolve().parent.parent / "data"
METERS = json.loads((DATA / "sts" / "batch-meters.json").read_text(encoding="utf-8"))
GOOD: list[dict[str, Any]] = METERS["good"]
ALL_METERS: list[Any] = GOOD + METERS["bad"]


def _one_by_one(fn: Any, raws: list[bytes], first: int = 1) -> Answers:
    out, failed = [], []
    for n, raw in enumerate(raws, start=first):
        if raw.strip():
            text, ok = one_line(fn, raw, n)
            out.append(text)
            if not ok:
                failed.append(n)
    return Answers(out, failed)


@pytest.mark.parametrize("name", ["encode-varied", "encode-edge", "encode-mixed"])
def test_encode_files_equal_line_by_line(name: str) -> None:
    """The recorded request files, twice (the second time from the caches), as one by one."""
    raws = (DATA / "cli" / f"{name}.jsonl").read_bytes().split(b"\n")
    for _ in range(2):
        assert encode_lines(raws) == _one_by_one(lines.encode_line, raws)


_amounts = st.one_of(
    st.decimals(min_value=0, max_value=2_000_000, places=2).map(str),
    st.sampled_from(["0", "12.5", "-1", "1e3", "abc", "", " 7 ", "NaN", "99999999999"]),
    st.integers(-5, 10**6),
    st.floats(0, 100, allow_nan=False),
    st.none(),
)
_small = st.one_of(st.integers(-2, 17), st.booleans(), st.just(1.0), st.none(), st.just("2"))
_issued = st.one_of(
    st.datetimes(
        min_value=__import__("datetime").datetime(1990, 1, 1),
        max_value=__import__("datetime").datetime(2070, 1, 1),
    ).map(lambda d: d.strftime("%Y-%m-%dT%H:%MZ")),
    st.sampled_from(["2026-03-01T10:00", "yesterday", "2026-03-01T10:00+02:00"]),
    st.integers(0, 5),
)
_tids = st.one_of(st.integers(0, (1 << 24) - 1), st.sampled_from([-1, 1 << 24, True, 2.0, None]))


@st.composite
def _token(draw: st.DrawFn) -> dict[str, Any]:
    tok: dict[str, Any] = {}
    if draw(st.integers(0, 3)):  # mostly plain credit lines
        if draw(st.booleans()):
            tok["class"] = draw(st.one_of(st.just(0), _small))
        if draw(st.booleans()):
            tok["subclass"] = draw(st.one_of(st.integers(0, 3), _small))
    else:
        tok["class"] = draw(st.integers(0, 3))
        tok["subclass"] = draw(st.integers(0, 11))
        tok |= draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "value": st.integers(0, 9999),
                    "register": st.just("all"),
                    "control": st.integers(0, 9),
                },
            )
        )
    if draw(st.integers(0, 3)):
        tok["rnd"] = draw(st.one_of(st.integers(0, 15), _small))
    which = draw(st.sampled_from(["issued", "tid", "both", "neither"]))
    if which in ("issued", "both"):
        tok["issued"] = draw(_issued)
    if which in ("tid", "both"):
        tok["tid"] = draw(_tids)
    if draw(st.integers(0, 9)):
        tok["amount"] = draw(_amounts)
    if draw(st.integers(0, 5)) == 0:
        tok["note"] = "extra"
    return tok


@st.composite
def _request_line(draw: st.DrawFn) -> bytes:
    meter = draw(st.sampled_from(GOOD if draw(st.integers(0, 4)) else ALL_METERS))
    if isinstance(meter, dict) and draw(st.booleans()):
        meter = dict(draw(st.permutations(list(meter.items()))))
    doc: dict[str, Any] = {"meter": meter, "token": draw(_token())}
    if draw(st.booleans()):
        doc = {"token": doc["token"], "meter": doc["meter"]}
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return b"{not json"
    if kind == 1:
        return b'{"token": {"amount": "1"}}'
    text = json.dumps(doc) if draw(st.booleans()) else orjson.dumps(doc).decode()
    if kind == 2:  # a duplicate key: JSON's last value wins, on both paths
        text = text[:-1] + ', "meter": ' + json.dumps(draw(st.sampled_from(ALL_METERS))) + "}"
    if kind == 3:
        text = text.replace('"meter"', '"\\u006deter"', 1)
    return text.encode() + draw(st.sampled_from([b"", b"\r", b"  "]))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(_request_line(), st.just(b""), st.just(b"  ")), max_size=30),
    st.integers(1, 10**6),
)
def test_encode_lines_equal_line_by_line(raws: list[bytes], first: int) -> None:
    """Any mix of line shapes: the same answers, errors and line numbers as one by one."""
    assert encode_lines(raws, first=first) == _one_by_one(lines.encode_line, raws, first)


def _encoded(meter: dict[str, Any], tok: dict[str, Any]) -> str | None:
    answer, ok = lines.safe(lines.encode_line, {"meter": meter, "token": tok})
    return answer["token"] if ok and "token" in answer else None


@st.composite
def _decode_line(draw: st.DrawFn) -> bytes:
    meter = draw(st.sampled_from(GOOD))
    plain = st.fixed_dictionaries(
        {"tid": st.integers(0, (1 << 24) - 1), "amount": st.sampled_from(["0.1", "12.5", "1e4"])},
        optional={"subclass": st.integers(0, 3), "rnd": st.integers(0, 15)},
    )
    tok = draw(st.one_of(plain, plain, _token()))
    digits = _encoded(meter, tok) or draw(st.from_regex(r"\A[0-9]{20}\Z"))
    mangle = draw(st.integers(0, 9))
    if mangle == 0:
        digits = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    elif mangle == 1:
        digits = digits[:4] + " " + digits[4:]
    elif mangle == 2:
        digits = "9" * 20
    doc: dict[str, Any] = {"token": digits}
    form = draw(st.integers(0, 3))
    if form == 0:
        doc["meter"] = meter
    else:
        try:
            cfg = MeterConfig.from_json(meter)
            doc["decoder_key"] = cfg.key().hex()
        except StsError:
            doc["decoder_key"] = "zz"
        if form >= 2:
            doc["ea"] = meter["ea"]
        if form == 3:
            doc["base_date"] = draw(st.sampled_from([1993, 2014, 2035, 1999, "2014"]))
    return orjson.dumps(doc)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(_decode_line(), st.just(b""), st.just(b"[]"), st.just(b"{x")), max_size=30)
)
def test_decode_lines_equal_line_by_line(raws: list[bytes]) -> None:
    """Decoding in bulk answers each line as decode_line does, errors and all."""
    assert decode_lines(raws) == _one_by_one(lines.decode_line, raws)


def test_error_names_its_line_counting_blank_lines() -> None:
    """Line numbers are the input's, blank lines included, from ``first`` on."""
    good = orjson.dumps({"meter": GOOD[0], "token": {"tid": 7, "amount": "1"}})
    answers = encode_lines([good, b"", b"{bad", good, b'{"token": {}}'], first=10)
    assert answers.failed == [12, 14]
    errors = [orjson.loads(x)["error"] for x in answers.lines if b'"error"' in x]
    assert [(e["code"], e["line"]) for e in errors] == [("json", 12), ("input", 14)]


@st.composite
def _credit_requests(draw: st.DrawFn) -> list[CreditRequest]:
    cfgs = [MeterConfig.from_json(m) for m in GOOD[:3]]
    return [
        CreditRequest(
            meter=draw(st.sampled_from(cfgs)),
            amount=draw(st.decimals(min_value=0, max_value=100_000, places=3)),
            tid=draw(st.integers(0, (1 << 24) - 1)),
            rnd=draw(st.integers(0, 15)),
            subclass=draw(st.sampled_from([0, 1, 2, 3, 6])),
        )
        for _ in range(draw(st.integers(0, 20)))
    ]


@settings(max_examples=80, deadline=None)
@given(_credit_requests())
def test_credit_tokens_equal_one_at_a_time(requests: list[CreditRequest]) -> None:
    """The typed batch gives what credit_token_at_tid gives, request by request."""
    one = [
        credit_token_at_tid(r.meter, r.amount, tid=r.tid, rnd=r.rnd, subclass=r.subclass)
        for r in requests
    ]
    assert credit_tokens(requests) == one


def test_credit_tokens_refuse_the_whole_batch() -> None:
    """One bad request raises before any token is made."""
    meter = MeterConfig.from_json(GOOD[0])
    good = CreditRequest(meter=meter, amount=Decimal(1), tid=5)
    with pytest.raises(RangeError):
        credit_tokens([good, CreditRequest(meter=meter, amount="-1", tid=6)])
    with pytest.raises(RangeError):
        credit_tokens([good, CreditRequest(meter=meter, amount="1", tid=1 << 24)])


def _credit_lines(meters: list[Any], n: int) -> list[bytes]:
    return [
        orjson.dumps({"meter": meters[i % len(meters)], "token": {"tid": i, "amount": "2.5"}})
        for i in range(n)
    ]


def test_full_caches_start_afresh_and_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """With caches far smaller than the meters seen, every batch still gets its own keys."""
    from stsgas.sts import batch

    monkeypatch.setattr(batch, "_CACHE_LIMIT", 2)  # encode and decode registries alike
    raws = _credit_lines(GOOD, 40)
    want = _one_by_one(lines.encode_line, raws)
    for start in range(0, 40, 7):
        part = raws[start : start + 7]
        assert encode_lines(part, first=start + 1) == _one_by_one(
            lines.encode_line, part, start + 1
        )
    tokens = [orjson.loads(x).get("token") for x in want.lines]
    dec = [orjson.dumps({"token": t, "meter": m}) for t, m in zip(tokens, GOOD * 5, strict=False)]
    for start in range(0, 40, 7):
        part = dec[start : start + 7]
        assert decode_lines(part) == _one_by_one(lines.decode_line, part)


def test_threads_sharing_the_caches_get_their_own_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches in several threads at once (caches filling and being replaced) answer as
    one by one: a key id from one thread never names another thread's meter."""
    from concurrent.futures import ThreadPoolExecutor

    from stsgas.sts import batch

    monkeypatch.setattr(batch, "_CACHE_LIMIT", 3)
    jobs = [_credit_lines(GOOD[k:] + GOOD[:k], 200) for k in range(4)]
    want = [_one_by_one(lines.encode_line, raws) for raws in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):
            got = list(pool.map(encode_lines, jobs))
            assert got == want
