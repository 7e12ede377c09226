"""``stsgas token``: the JSON Lines contract, per-line errors, exit codes and one-shot forms."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stsgas.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "cli"
METER: dict[str, Any] = json.loads(
    (DATA.parent / "sts" / "meter-dkga02.json").read_text(encoding="utf-8")
)


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


def _load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((DATA / name).read_text(encoding="utf-8"))["cases"]
    return cases


_METER_OPTIONS = ("pan", "sgc", "ti", "krn", "base_date", "ea", "dkga", "vending_key")
# The test meter as ``stsgas token`` options, in the order the commands document them.
_METER_ARGS = [
    x for name in _METER_OPTIONS for x in (f"--{name.replace('_', '-')}", str(METER[name]))
]
_CREDIT_ARGS = [*_METER_ARGS, "--amount", "1", "--at", "2004-03-01T13:55Z"]


def _args(case: dict[str, Any]) -> list[str]:
    """A case's arguments with $DATA, $CREDIT and $OLD_METER filled in."""
    out: list[str] = []
    for arg in case["args"]:
        if arg == "$CREDIT":
            out += _CREDIT_ARGS
        elif arg == "$OLD_METER":
            out += _METER_ARGS
        else:
            out.append(arg.replace("$DATA", str(DATA)))
    return out


@pytest.mark.parametrize("case", _load("token-line-cases.json"), ids=lambda c: c["name"])
def test_json_lines_runs(case: dict[str, Any]) -> None:
    """One answer per non-blank line, in order; errors name their line; exit 0 or 1."""
    stdin = case["stdin"].replace('"$METER"', json.dumps(METER))
    proc = _run(_args(case), stdin)
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    if "answers_file" in case:
        text = (DATA / case["answers_file"]).read_text(encoding="utf-8")
        want = [json.loads(line) for line in text.splitlines()]
    else:
        want = case["answers"]
    assert len(got) == len(want), proc.stderr
    for expected, have in zip(want, got, strict=True):
        assert _subset(expected, have), (expected, have)
    assert proc.returncode == case["exit"]
    assert case["stderr"] in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("case", _load("token-exit2-cases.json"), ids=lambda c: c["name"])
def test_cannot_run_is_one_line_and_exit_2(
    case: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad options, unreadable files: one line on stderr (with the error code), exit 2."""
    assert main(_args(case)) == 2
    err = capsys.readouterr().err
    assert case["stderr"] in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_credit_one_shot_prints_grouped_token(capsys: pytest.CaptureFixture[str]) -> None:
    """``stsgas token credit`` prints the token grouped 4-4-4-4-4."""
    args = ["token", "credit", *_METER_ARGS, "--amount", "0.1", "--subclass", "0"]
    args += ["--rnd", "5", "--at", "2004-03-01T13:55Z"]
    assert main(args) == 0
    assert capsys.readouterr().out.strip() == "2371 6100 5011 8319 4197"


def test_keychange_one_shot_equals_json_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stsgas token keychange`` prints the same set as a JSON key change line, grouped."""
    import io

    assert (
        main(["token", "keychange", *_METER_ARGS, "--new-krn", "2", "--new-base-date", "2014"]) == 0
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


def test_sta_tables_option_loads_another_table_set() -> None:
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


def test_line_numbers_hold_across_batches() -> None:
    """Past the first batch of 8,192 lines, an error still names its input line."""
    good = json.dumps({"meter": METER, "token": {"tid": 7, "amount": "1"}})
    text = [good] * 9000
    text[4] = ""
    text[8500] = "{bad"
    proc = _run(["token", "encode"], "\n".join(text) + "\n{bad\n")
    errors = [json.loads(x)["error"]["line"] for x in proc.stdout.splitlines() if "error" in x]
    assert errors == [8501, 9001]
    assert len(proc.stdout.splitlines()) == 9000
    assert "2 line(s) failed (line 8501, 9001)" in proc.stderr
