#!/usr/bin/env bash
# Makes sure the PostgreSQL server the test suite uses answers, or fails saying how.
#
# The server is the one in STSGAS_TEST_PG_URL (default
# postgresql+psycopg://postgres@127.0.0.1:5432/test). When it is on this machine
# and does not answer, the local Debian cluster is started; when PostgreSQL is not
# installed at all, Debian's `postgresql` package is installed first (as root, like
# scripts/ensure-system-deps.sh does for chromium) and its new cluster is made to
# trust connections from 127.0.0.1, which is what the test URL expects.
# Used by `make test` and by .ci/run.
set -euo pipefail

url="${STSGAS_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
# libpq does not know SQLAlchemy's "+driver" part
libpq="$(sed -E 's|^postgresql\+[a-z0-9_]+://|postgresql://|' <<<"$url")"
rest="${libpq#*://}"
[[ $rest == *@* ]] && rest="${rest#*@}"
hostport="${rest%%[/?]*}"
host="${rest%%[:/?]*}"

fail() {
    echo "ensure-postgres: $*" >&2
    echo "ensure-postgres: or run the suite without its PostgreSQL half, on purpose:" \
        "STSGAS_SKIP_PG=1 make test" >&2
    exit 1
}

answers() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -d "$libpq"; }

if answers; then
    exit 0
fi

case "$host" in
    "" | localhost | 127.0.0.1 | ::1 | "[::1]") ;;
    *) fail "PostgreSQL at $hostport (STSGAS_TEST_PG_URL) does not answer; start it, or point STSGAS_TEST_PG_URL at one that does" ;;
esac

installed_now=0
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! compgen -G "/etc/postgresql/*" >/dev/null; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        fail "PostgreSQL is not installed; install Debian's postgresql package (sudo apt-get install postgresql) or run this as root"
    fi
    echo "ensure-postgres: installing Debian's postgresql package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    installed_now=1
fi

version="$(ls /etc/postgresql | sort -V | tail -n1)"
cluster="${STSGAS_PG_CLUSTER:-main}"  # Debian's default cluster
if ((installed_now)); then
    # a fresh cluster asks a password over TCP; the tests connect as postgres without one
    hba="/etc/postgresql/$version/$cluster/pg_hba.conf"
    sed -i '1i host all all 127.0.0.1/32 trust  # added by stsgas scripts/ensure-postgres.sh' "$hba"
    echo "ensure-postgres: $hba now trusts 127.0.0.1 (a test machine's cluster)" >&2
fi

echo "ensure-postgres: starting the local PostgreSQL $version cluster $cluster" >&2
pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start \
    || echo "ensure-postgres: pg_ctlcluster $version $cluster start failed (as $(id -un))" >&2
for _ in $(seq 1 30); do
    answers && exit 0
    sleep 1
done
fail "PostgreSQL $version does not answer at ${hostport:-the local socket} after 30 s;" \
    "start it (pg_ctlcluster $version $cluster start, see /var/log/postgresql/) and run again"
