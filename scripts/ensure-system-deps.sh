#!/usr/bin/env bash
# Installs the system packages the test suite drives for real: Debian's chromium
# (browser tests through Playwright) and postgresql-client (pg_dump/pg_restore for the
# backup tests), softhsm2 (a PKCS#11 token for the HSM key-custody tests) and
# nginx-light (`nginx -t` checks the shipped reverse-proxy config). Runs apt-get only
# when something is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# pg_dump / pg_restore for `stsgas db backup|restore` on PostgreSQL
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
# SoftHSM: the PKCS#11 library and softhsm2-util, for `STSGAS_SECURITY_MODULE=pkcs11`
[[ -e /usr/lib/softhsm/libsofthsm2.so ]] && command -v softhsm2-util >/dev/null 2>&1 \
    || need+=(softhsm2)
# nginx -t for deploy/nginx/stsgas.conf (tests/test_deploy.py)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
if ((${#need[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "missing system packages: ${need[*]} (run as root or install them)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
