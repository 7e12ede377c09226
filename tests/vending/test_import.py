"""``stsgas import meters``: a meter book from CSV, all or nothing, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from stsgas.cli import main
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import AuditEntry, Customer, CustomerMeter, Meter, MeterMode
from tests.vending import factories

DATA = Path(__file__).resolve().parents[1] / "data" / "vending"


@pytest.fixture
def book_ready(engine: Engine, security_module: SoftwareSecurityModule) -> None:
    """The supply group and the two named tariffs the CSV files refer to."""
    with make_sessionmaker(engine).begin() as s:
        factories.supply_group(s, security_module)
        factories.tariff(s, mode=MeterMode.VOLUME, name="household-volume")
        factories.tariff(s, mode=MeterMode.AMOUNT, name="household-amount")


def _count(engine: Engine, model: type) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.usefixtures("book_ready")
def test_a_good_book_is_imported_with_its_customers(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three meters, two customers linked, each creation audited; a dry run writes nothing."""
    book = str(DATA / "meter-book.csv")
    assert main(["import", "meters", book, "--database", db_url, "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out) == {"meters": 3, "customers": 2, "written": False}
    assert _count(engine, Meter) == 0
    audited = _count(engine, AuditEntry)
    assert main(["import", "meters", book, "--database", db_url]) == 0
    assert json.loads(capsys.readouterr().out) == {"meters": 3, "customers": 2, "written": True}
    with make_sessionmaker(engine)() as s:
        meters = s.execute(select(Meter).order_by(Meter.id)).scalars().all()
        assert [m.mode for m in meters] == ["volume", "amount", "volume"]
        assert meters[2].ti == "02"
        assert meters[0].tariff_id is not None
        assert meters[2].tariff_id is None
        assert s.execute(select(func.count()).select_from(CustomerMeter)).scalar_one() == 2
    assert _count(engine, Customer) == 2
    assert _count(engine, AuditEntry) == audited + 5  # 3 meters + 2 customers
    # the same book again: every line is a duplicate, nothing more is written
    assert main(["import", "meters", book, "--database", db_url]) == 1
    assert capsys.readouterr().err.count("is registered") == 3
    assert _count(engine, Meter) == 3


@pytest.mark.usefixtures("book_ready")
def test_a_bad_book_lists_every_bad_line_and_writes_nothing(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong check digit, an unknown mode, an unknown supply group, a tariff of the
    other mode and a duplicate: five errors by line; the good first line is not kept."""
    assert main(["import", "meters", str(DATA / "meter-book-bad.csv"), "--database", db_url]) == 1
    err = capsys.readouterr().err
    for line, why in [
        (3, "check digit"),
        (4, "mode must be"),
        (5, "no supply group"),
        (6, "no amount tariff"),
        (7, "twice in the file"),
    ]:
        assert f"line {line}: " in err, err
        assert why in err.split(f"line {line}: ")[1].splitlines()[0], err
    assert "line 2:" not in err
    assert _count(engine, Meter) == 0
    assert _count(engine, Customer) == 0


def test_unreadable_or_malformed_files(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """No such file: 2. A header without the required columns: 1 with the column list."""
    assert main(["import", "meters", str(tmp_path / "none.csv"), "--database", db_url]) == 2
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("pan,kind\n1,2\n", encoding="utf-8")
    assert main(["import", "meters", str(bad), "--database", db_url]) == 1
    assert "the header lacks" in capsys.readouterr().err
