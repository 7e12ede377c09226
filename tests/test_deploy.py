"""The shipped deployment files work: each systemd unit parses, its ExecStart command line
is accepted by the stsgas it runs (run for real on a temporary SQLite database), and the
reverse-proxy config passes ``nginx -t``."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
STSGAS = str(Path(sys.executable).with_name("stsgas"))
INSTALLED = "/opt/stsgas/venv/bin/stsgas"


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values]}} (systemd allows repeated keys)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for n, raw in enumerate((UNITS / name).read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if m := re.fullmatch(r"\[(\w+)\]", line):
            current = sections.setdefault(m.group(1), {})
            continue
        key, sep, value = line.partition("=")
        assert current is not None, f"{name}:{n}: a setting before any section"
        assert sep, f"{name}:{n}: not key=value: {raw!r}"
        assert re.fullmatch(r"[A-Za-z]+", key), f"{name}:{n}: not a key: {key!r}"
        current.setdefault(key, []).append(value)
    return sections


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSGAS_")}
    env["STSGAS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'stsgas.db'}"
    return env


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, check=False
    )


def _exec_start(name: str) -> list[str]:
    (line,) = unit(name)["Service"]["ExecStart"]
    args = shlex.split(line)
    assert args[0] == INSTALLED
    return [STSGAS, *args[1:]]


@pytest.mark.parametrize("name", sorted(p.name for p in UNITS.glob("*.service")))
def test_service_units_have_what_systemd_needs(name: str) -> None:
    """Every service names its user, its environment file and one ExecStart."""
    service = unit(name)["Service"]
    assert service["User"] == ["stsgas"]
    assert service["EnvironmentFile"] == ["/etc/stsgas/stsgas.env"]
    assert len(service["ExecStart"]) == 1
    assert unit(name)["Unit"]["Description"]


def test_server_unit_command_line_runs(tmp_path: Path) -> None:
    """Each option of the server unit's ExecStart is one ``stsgas serve --help`` lists,
    and the exact command line parses and runs (``--migrate-only`` added)."""
    args = _exec_start("stsgas.service")
    assert args[1] == "serve"
    helptext = _run([STSGAS, "serve", "--help"], tmp_path).stdout
    for option in (a for a in args if a.startswith("--")):
        assert option in helptext
    done = _run([*args, "--demo", "--migrate-only"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "database: sqlite:///" in done.stdout


def test_worker_unit_command_line_parses(tmp_path: Path) -> None:
    """The worker unit's options are the worker's; on SQLite it stops with its own
    message (exit 2), not an argument error."""
    args = _exec_start("stsgas-worker.service")
    helptext = _run([STSGAS, "worker", "--help"], tmp_path).stdout
    for option in (a for a in args if a.startswith("--")):
        assert option in helptext
    done = _run(args, tmp_path)
    assert done.returncode == 2
    assert "the server runs the jobs itself" in done.stderr


def test_backup_unit_writes_a_dated_backup(tmp_path: Path) -> None:
    """The backup unit's shell line (systemd's %% is a %) writes today's file."""
    (line,) = unit("stsgas-backup.service")["Service"]["ExecStart"]
    shell, flag, script = shlex.split(line)
    assert (shell, flag) == ("/bin/sh", "-c")
    script = script.replace("%%", "%").replace(INSTALLED, STSGAS)
    script = script.replace("/var/backups/stsgas", str(tmp_path / "backups"))
    (tmp_path / "backups").mkdir()
    made = _run([STSGAS, "serve", "--demo", "--migrate-only"], tmp_path)
    assert made.returncode == 0, made.stderr
    done = _run([shell, flag, script], tmp_path)
    assert done.returncode == 0, done.stderr
    today = dt.datetime.now().strftime("%Y-%m-%d")  # the shell's date: local time
    assert (tmp_path / "backups" / f"stsgas-{today}.dump").stat().st_size > 0
    assert unit("stsgas-backup.timer")["Timer"]["OnCalendar"] == ["*-*-* 02:15:00 UTC"]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vending.example.org")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_proxy_config_passes_nginx_check(tmp_path: Path) -> None:
    """``nginx -t`` accepts the proxy config (in a minimal main config, with a throwaway
    certificate in place of the real one)."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        pytest.skip("nginx is not installed (scripts/ensure-system-deps.sh installs it)")
    cert, key = _self_signed(tmp_path)
    conf = (DEPLOY / "nginx" / "stsgas.conf").read_text()
    conf = conf.replace("/etc/ssl/stsgas/fullchain.pem", str(cert))
    conf = conf.replace("/etc/ssl/stsgas/privkey.pem", str(key))
    (tmp_path / "stsgas.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/stsgas.conf;\n}}\n"
    )
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr
