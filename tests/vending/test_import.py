"""``stsgas import meters``: a meter book from CSV, all or nothing, on both databases."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from stsgas.cli import main
from stsgas.sts import pan_from_iin_drn
from stsgas.sts.identity import drn_with_check
from stsgas.vending.audit import service as audit
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.imports import ImportFailed, import_meters
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.meters import service as meters
from stsgas.vending.models import (
    Account,
    AuditEntry,
    Customer,
    CustomerMeter,
    Meter,
    MeterMode,
    SupplyGroup,
    Wallet,
)
from tests.processes import read_terminal
from tests.vending import factories
from tests.vending.locks import lock_waiters

DATA = Path(__file__).resolve().parents[1] / "data" / "vending"
HEADER = "number,mode,sgc,krn,ti,tariff,customer_name,customer_phone,customer_address"


def _pan(i: int) -> str:
    return pan_from_iin_drn("600727", drn_with_check(f"05{i:08d}"))


def _book_lines(n: int) -> Iterator[str]:
    """``n`` good lines: every other meter with a customer, every third on a tariff."""
    for i in range(n):
        mode = "volume" if i % 2 else "amount"
        tariff = f"household-{mode}" if i % 3 == 0 else ""
        customer = f"Customer {i},+2557{i:08d},Plot {i}" if i % 2 else ",,"
        yield f"{_pan(i)},{mode},123456,1,01,{tariff},{customer}"


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
    digest = hashlib.sha256(Path(book).read_bytes()).hexdigest()
    assert main(["import", "meters", book, "--database", db_url, "--dry-run"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == {
        "meters": 3,
        "customers": 2,
        "written": False,
        "sha256": digest,
    }
    assert out.err == ""  # stderr is no terminal here: no progress bar
    assert _count(engine, Meter) == 0
    audited = _count(engine, AuditEntry)
    assert main(["import", "meters", book, "--database", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["written"] is True
    with make_sessionmaker(engine)() as s:
        meters = s.execute(select(Meter).order_by(Meter.id)).scalars().all()
        assert [m.mode for m in meters] == ["volume", "amount", "volume"]
        assert meters[2].ti == "02"
        assert meters[0].tariff_id is not None
        assert meters[2].tariff_id is None
        assert s.execute(select(func.count()).select_from(CustomerMeter)).scalar_one() == 2
    assert _count(engine, Customer) == 2
    # one audit entry for the whole book: its file's hash, the counts and who
    with make_sessionmaker(engine)() as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.seq > audited)).scalars().all()
        assert [(e.action, e.object_id) for e in entries] == [("meter.import", digest)]
        assert entries[0].data["meters"] == 3
        assert entries[0].data["customers"] == 2
        assert entries[0].data["imported_by"].startswith("os:")
        assert audit.verify_chain(s).ok  # the book's entry extends the chain soundly
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
        (7, "twice in the file (line 2)"),
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


@pytest.mark.usefixtures("book_ready")
def test_a_ten_thousand_line_book_is_imported(
    engine: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """10,000 meters and their 5,000 customers, each meter linked to its own customer."""
    book = tmp_path / "book.csv"
    book.write_text("\n".join([HEADER, *_book_lines(10_000)]) + "\n", encoding="utf-8")
    assert main(["import", "meters", str(book), "--database", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["meters"] == 10_000
    assert _count(engine, Meter) == 10_000
    assert _count(engine, Customer) == 5_000
    # every imported customer has its wallet and wallet account, as one made by hand
    assert _count(engine, Wallet) == 5_000
    with make_sessionmaker(engine)() as s:
        wallet_accounts = s.execute(
            select(func.count())
            .select_from(Account)
            .where(Account.code.like("customer:%:wallet"), Account.kind == "liability")
        ).scalar_one()
        assert wallet_accounts == 5_000
        linked = s.execute(
            select(Meter.pan, Customer.name)
            .join(CustomerMeter, CustomerMeter.meter_id == Meter.id)
            .join(Customer, Customer.id == CustomerMeter.customer_id)
            .where(Meter.pan.in_([_pan(1), _pan(9_999)]))
            .order_by(Meter.pan)
        ).all()
        assert sorted(linked) == sorted([(_pan(1), "Customer 1"), (_pan(9_999), "Customer 9999")])
        on_tariff = s.execute(
            select(func.count()).select_from(Meter).where(Meter.tariff_id.is_not(None))
        ).scalar_one()
        assert on_tariff == 3_334
        first = s.execute(select(Meter).where(Meter.pan == _pan(0))).scalar_one()
        made = first.created_at  # stored as the column's type stores it: reads back in UTC
        assert made.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - made) < timedelta(hours=1)
        assert (first.mode, first.status, first.ti, first.last_tid) == ("amount", "active", "01", 0)


@pytest.mark.usefixtures("book_ready")
def test_bad_lines_deep_in_a_big_book_are_all_listed_and_nothing_is_imported(
    engine: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad lines at 3,001, 6,001, 7,778 and the very end of a 10,000-line book, and one
    meter already registered: each named by line and reason; not one meter is written."""
    with make_sessionmaker(engine).begin() as s:
        sg = s.execute(select(SupplyGroup)).scalars().one()
        meters.create(
            s, actor=None, number=_pan(5_000), mode=MeterMode.AMOUNT, supply_group_id=sg.id
        )
    lines = [HEADER, *_book_lines(10_000)]
    lines[3_000] = lines[3_000].replace(",volume,", ",steam,").replace(",amount,", ",steam,")
    pan = lines[7_777][:18]  # a typo in the last digit: the check digit no longer holds
    lines[7_777] = pan[:-1] + str((int(pan[-1]) + 1) % 10) + lines[7_777][18:]
    lines[10_000] = lines[10_000].replace(",01,", ",1,")
    lines[6_000] = lines[6_000].replace(
        "Customer 5999", "Customer\x005999"
    )  # no database stores it
    book = tmp_path / "book.csv"
    book.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["import", "meters", str(book), "--database", db_url]) == 1
    err = capsys.readouterr().err
    listed = [ln.strip() for ln in err.splitlines() if ln.strip().startswith("line ")]
    assert [ln.split(":")[0] for ln in listed] == [
        "line 3001",
        "line 5002",
        "line 6001",
        "line 7778",
        "line 10001",
    ], err
    assert "mode must be" in listed[0]
    assert f"meter {_pan(5_000)} is registered" in listed[1]
    assert "a NUL character" in listed[2]
    assert "check digit" in listed[3]
    assert "ti must be two digits" in listed[4]
    assert err.splitlines()[0] == "stsgas import meters: 5 bad lines; nothing imported"
    assert _count(engine, Meter) == 1  # the one registered before
    assert _count(engine, Customer) == 0


def _committing(
    sm: sessionmaker[Session],
    work: Callable[[Session], object],
    outcome: list[BaseException | None],
) -> threading.Thread:
    """A thread (not started) that runs ``work`` in a session of its own and commits;
    what it raised (or None) goes to ``outcome``, for the test thread to check."""

    def run() -> None:
        with sm() as s:
            try:
                work(s)
                s.commit()
                outcome.append(None)
            except BaseException as exc:  # handed to the test thread
                s.rollback()
                outcome.append(exc)

    return threading.Thread(target=run)


# PostgreSQL only: SQLite has one writer at a time, so the two cannot overlap
@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.usefixtures("book_ready")
def test_a_book_racing_a_registration_of_the_same_pan_ends_with_one_meter(
    engine: Engine, backend: str
) -> None:
    """A clerk registers a meter by hand while a book holding the same PAN is imported:
    the import waits on the clerk's uncommitted meter, then fails naming that line;
    one meter with that PAN exists, and no other line of the book was written."""
    data = ("\n".join([HEADER, *_book_lines(500)]) + "\n").encode()
    sm = make_sessionmaker(engine)
    outcome: list[BaseException | None] = []

    with sm() as clerk:
        sg = clerk.execute(select(SupplyGroup)).scalars().one()
        meters.create(
            clerk, actor=None, number=_pan(250), mode=MeterMode.AMOUNT, supply_group_id=sg.id
        )
        clerk.flush()  # the PAN's index entry is taken, not yet committed
        worker = _committing(sm, lambda s: import_meters(s, data, actor=None), outcome)
        worker.start()
        lock_waiters(engine)
        clerk.commit()
    worker.join()
    (exc,) = outcome
    assert isinstance(exc, ImportFailed), exc
    assert exc.extra["errors"] == [f"line 252: meter {_pan(250)} is registered"]
    with sm() as s:
        assert s.execute(select(Meter.pan)).scalars().all() == [_pan(250)]
    assert _count(engine, Customer) == 0


# PostgreSQL only: SQLite has one writer at a time, so the two cannot overlap
@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.usefixtures("book_ready")
def test_a_registration_racing_an_uncommitted_book_ends_with_one_meter(
    engine: Engine, backend: str
) -> None:
    """The other order: the book is written but not committed when the clerk registers
    one of its PANs; the clerk's registration waits, then is refused; the book stands."""
    data = ("\n".join([HEADER, *_book_lines(500)]) + "\n").encode()
    sm = make_sessionmaker(engine)
    outcome: list[BaseException | None] = []

    def register(s: Session) -> None:
        meters.create(s, actor=None, number=_pan(250), mode=MeterMode.AMOUNT, supply_group_id=sg_id)

    with sm() as importer:
        sg_id = importer.execute(select(SupplyGroup.id)).scalar_one()
        import_meters(importer, data, actor=None)
        worker = _committing(sm, register, outcome)
        worker.start()
        lock_waiters(engine)
        importer.commit()
    worker.join()
    (exc,) = outcome
    assert exc is not None  # the unique index refused the second meter
    assert _count(engine, Meter) == 500
    with sm() as s:
        n = s.execute(select(func.count()).select_from(Meter).where(Meter.pan == _pan(250)))
        assert n.scalar_one() == 1


def test_a_file_that_is_not_utf8_imports_nothing(session: Session) -> None:
    """Latin-1 bytes: refused with the byte offset, before anything is read as a line."""
    with pytest.raises(ImportFailed, match="not UTF-8"):
        import_meters(session, f"{HEADER}\nJos\xe9\n".encode("latin-1"), actor=None)


@pytest.mark.usefixtures("book_ready")
def test_a_terminal_gets_a_progress_bar(db_url: str, tmp_path: Path) -> None:
    """stderr on a real pseudo-terminal: the bar names both phases and their counts;
    stdout (a pipe) still carries only the JSON summary."""
    book = tmp_path / "book.csv"
    book.write_text("\n".join([HEADER, *_book_lines(3_000)]) + "\n", encoding="utf-8")
    master, slave = os.openpty()
    run = "import sys; from stsgas.cli import main; sys.exit(main(sys.argv[1:]))"
    with subprocess.Popen(
        [sys.executable, "-c", run, "import", "meters", str(book), "--database", db_url],
        stdout=subprocess.PIPE,
        stderr=slave,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    ) as proc:
        os.close(slave)
        seen = read_terminal(master)
        os.close(master)
        out = proc.stdout.read() if proc.stdout else b""
    assert proc.returncode == 0, seen
    assert json.loads(out)["meters"] == 3_000
    shown = seen.decode(errors="replace")
    assert "checking lines" in shown, shown
    assert "writing meters" in shown, shown
    assert "3000/3000" in shown, shown
