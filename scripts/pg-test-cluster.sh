#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: initdb into a temp folder, a unix socket there.
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # exports NEWSDESK_TEST_PG and NEWSDESK_TEST_PG_DIR
#   .venv/bin/pytest -q                           # the PostgreSQL variants of the tests run
#   scripts/pg-test-cluster.sh stop "$NEWSDESK_TEST_PG_DIR"
#
# Needs PostgreSQL's server binaries (Debian: postgresql-15, or PG_BIN=/path/to/bin). Run as
# root, the cluster runs as the unprivileged `postgres` user (initdb refuses root).
set -euo pipefail

find_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
  echo "pg-test-cluster: PostgreSQL server binaries (initdb) not found; install postgresql" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "${PG_USER:-postgres}" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

start() {
  local bin dir port user
  bin="$(find_bin)"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/newsdesk-pg.XXXXXX")"
  user="$(id -un)"
  if [ "$(id -u)" -eq 0 ]; then
    user="${PG_USER:-postgres}"
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home "$user"
    chown "$user" "$dir"
  fi
  chmod 700 "$dir"
  port="$(free_port)"
  as_owner "$bin/initdb" -D "$dir/data" -U "$user" -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "export NEWSDESK_TEST_PG='postgresql://$user@/postgres?host=$dir&port=$port'"
  echo "export NEWSDESK_TEST_PG_DIR='$dir'"
}

stop() {
  local bin dir="${1:-${NEWSDESK_TEST_PG_DIR:-}}"
  [ -n "$dir" ] && [ -d "$dir/data" ] || { echo "pg-test-cluster: no cluster folder given" >&2; exit 1; }
  bin="$(find_bin)"
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
