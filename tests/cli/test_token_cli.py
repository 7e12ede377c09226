"""``stsgas token``: the JSON Lines contract, per-line errors, exit codes and one-shot forms."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stsgas.cli import main
from stsgas.sts import MeterConfig, decode

DATA = Path(__file__).resolve().parent.parent / "data" / "cli"
METER: dict[str, Any] = {
    "pan": "600727000000000009",
    "key_type": 2,
    "sgc": "123456",
    "ti": "01",
    "krn": 1,
    "ken": 255,
    "base_date": 1993,
    "ea": "07",
    "dkga": "02",
    "vending_key": "abababababababab",
}


def _run(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stsgas", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _subset(expected: Any, got: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(_subset(v, got.get(k)) for k, v in expected.items())
    return bool(expected == got)


def test_encode_file_keeps_order_and_reports_each_bad_line() -> None:
    """Each input line gives one output line in order; bad lines are errors; exit is 1."""
    proc = _run(["token", "encode", "--input", str(DATA / "encode-mixed.jsonl")], "")
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    expected_text = (DATA / "encode-mixed.expected.jsonl").read_text(encoding="utf-8")
    expected = [json.loads(line) for line in expected_text.splitlines()]
    assert len(got) == len(expected)
    for want, have in zip(expected, got, strict=True):
        assert _subset(want, have), (want, have)
    assert proc.returncode == 1
    assert "2 line(s) failed" in proc.stderr


def test_encode_stdin_all_good_exits_zero() -> None:
    """A clean run over stdin exits 0, and every token decodes to what was asked."""
    reqs = [
        {"meter": METER, "token": {"issued": f"2004-03-0{d}T10:00Z", "amount": str(d)}}
        for d in range(1, 6)
    ]
    proc = _run(["token", "encode"], "\n".join(json.dumps(r) for r in reqs) + "\n")
    assert proc.returncode == 0, proc.stderr
    key = MeterConfig.from_json(METER).key()
    for d, line in enumerate(proc.stdout.splitlines(), start=1):
        out = json.loads(line)
        assert out["amount"] == f"{d}.0"
        assert decode(out["token"], key).units == d * 10  # type: ignore[union-attr]


def test_decode_lines(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """decode prints class, subclass, TID, issue time, RND and amount, or an error per line."""
    import io

    text = "\n".join(
        [
            json.dumps({"token": "23716100501183194197", "meter": METER}),
            json.dumps({"token": "23716100501183194198", "meter": METER}),
            json.dumps({"token": "123", "decoder_key": "e653341f9d5bf36f"}),
        ]
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert main(["token", "decode"]) == 1
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert out[0] == {
        "class": 0,
        "subclass": 0,
        "tid": 5871715,
        "issued": "2004-03-01T13:55Z",
        "rnd": 5,
        "amount": "0.1",
    }
    assert out[1]["error"]["code"] == "crc"
    assert out[2]["error"]["code"] == "format"


def test_credit_one_shot_prints_grouped_token(capsys: pytest.CaptureFixture[str]) -> None:
    """``stsgas token credit`` prints the token grouped 4-4-4-4-4."""
    args = [
        "token",
        "credit",
        "--pan",
        METER["pan"],
        "--sgc",
        "123456",
        "--ti",
        "01",
        "--krn",
        "1",
        "--base-date",
        "1993",
        "--ea",
        "07",
        "--dkga",
        "02",
        "--vending-key",
        "abababababababab",
        "--amount",
        "0.1",
        "--subclass",
        "0",
        "--rnd",
        "5",
        "--at",
        "2004-03-01T13:55Z",
    ]
    assert main(args) == 0
    assert capsys.readouterr().out.strip() == "2371 6100 5011 8319 4197"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"--vending-key": "abab"}, "[key]"),
        ({"--at": "2030-01-01T00:00Z"}, "[tid]"),
        ({"--amount": "-3"}, "[range]"),
        ({"--ea": "99"}, "[algorithm]"),
    ],
)
def test_credit_bad_input_is_a_message_and_exit_2(
    change: dict[str, str], code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad options give one clear line on stderr with the error code, and exit 2."""
    opts = {
        "--pan": METER["pan"],
        "--sgc": "123456",
        "--ti": "01",
        "--krn": "1",
        "--base-date": "1993",
        "--ea": "07",
        "--dkga": "02",
        "--vending-key": "abababababababab",
        "--amount": "1",
        "--at": "2004-03-01T13:55Z",
    }
    opts.update(change)
    args = ["token", "credit"] + [x for kv in opts.items() for x in kv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert code in err
    assert "Traceback" not in err


def test_missing_input_file_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing --input file is a message and exit 2."""
    assert main(["token", "encode", "--input", "/nonexistent/x.jsonl"]) == 2
    assert "cannot read" in capsys.readouterr().err


_OLD_METER_ARGS = [
    "--pan",
    METER["pan"],
    "--sgc",
    "123456",
    "--ti",
    "01",
    "--krn",
    "1",
    "--base-date",
    "1993",
    "--ea",
    "07",
    "--dkga",
    "02",
    "--vending-key",
    "abababababababab",
]


def test_keychange_one_shot_equals_json_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stsgas token keychange`` prints the same set as a JSON key change line, grouped."""
    import io

    assert (
        main(["token", "keychange", *_OLD_METER_ARGS, "--new-krn", "2", "--new-base-date", "2014"])
        == 0
    )
    grouped = capsys.readouterr().out.split("\n")[:-1]
    new = METER | {"krn": 2, "base_date": 2014}
    line = json.dumps({"meter": METER, "token": {"class": 2, "subclass": 3, "new_meter": new}})
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(line.encode())))
    assert main(["token", "encode"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["tokens"]) == 2
    assert [g.replace(" ", "") for g in grouped] == out["tokens"]
    assert all(len(g.split(" ")) == 5 for g in grouped)


def test_keychange_bad_option_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed --new-* value is one line on stderr and exit 2."""
    assert main(["token", "keychange", *_OLD_METER_ARGS, "--new-krn", "two"]) == 2
    err = capsys.readouterr().err
    assert "--new-krn" in err
    assert "Traceback" not in err


def test_decode_class2_fields(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Encoding then decoding class-2 lines gives their own fields (register "all", watts)."""
    import io

    reqs = [
        {"class": 2, "subclass": 1, "register": "all", "issued": "2004-03-01T13:55Z", "rnd": 3},
        {"class": 2, "subclass": 1, "register": 6, "tid": 100},
        {"class": 2, "subclass": 0, "value": 1000, "tid": 101},
    ]
    text = "\n".join(json.dumps({"meter": METER, "token": t}) for t in reqs)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert main(["token", "encode"]) == 0
    tokens = [json.loads(x)["token"] for x in capsys.readouterr().out.splitlines()]
    text = "\n".join(json.dumps({"token": t, "meter": METER}) for t in tokens)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert main(["token", "decode"]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    want = {
        "class": 2,
        "subclass": 1,
        "tid": 5871715,
        "register": "all",
        "rnd": 3,
        "issued": "2004-03-01T13:55Z",
    }
    assert {k: out[0].get(k) for k in want} == want
    assert (out[1]["register"], out[1]["tid"]) == (6, 100)
    assert (out[2]["subclass"], out[2]["watts"], out[2]["tid"]) == (0, 1000, 101)


def test_blank_lines_crlf_and_unterminated_last_line() -> None:
    """Blank lines are skipped, CRLF is accepted, a last line without newline is read."""
    good = json.dumps({"meter": METER, "token": {"issued": "2004-03-01T13:55Z", "amount": "1"}})
    proc = _run(["token", "encode"], f"\n{good}\r\n   \n{{bad\n{good}")
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [("token" in o, o.get("error", {}).get("code")) for o in out] == [
        (True, None),
        (False, "json"),
        (True, None),
    ]
    assert proc.returncode == 1


def test_sta_tables_option_loads_another_table_set(tmp_path: Path) -> None:
    """--sta-tables FILE encodes with that table set: the IEC worked example with sample tables."""
    meter = {k: v for k, v in METER.items() if k not in {"dkga", "vending_key"}}
    meter["decoder_key"] = "0abc12def3456789"
    line = json.dumps(
        {
            "meter": meter,
            "token": {"class": 0, "subclass": 0, "rnd": 11, "tid": 0x19EB23, "amount": "25.6"},
        }
    )
    tables = str(DATA / "sta-sample-tables.json")
    sample = _run(["token", "--sta-tables", tables, "encode"], line + "\n")
    production = _run(["token", "encode"], line + "\n")
    assert sample.returncode == 0, sample.stderr
    assert json.loads(sample.stdout)["token"] == "51043465443420856213"
    assert json.loads(production.stdout)["token"] == "29054347139309851356"
    bad = tmp_path / "bad.json"
    bad.write_text('{"s1": [0, 1]}', encoding="utf-8")
    proc = _run(["token", "--sta-tables", str(bad), "encode"], line + "\n")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
