#!/usr/bin/env bash
# A throw-away PostgreSQL server on a loopback port for the integration suites (.ci/run):
#   scripts/test-postgres.sh start   -> prints FACE3D_TEST_POSTGRES_URL=postgres://...
#   scripts/test-postgres.sh stop
# Installs Debian's postgresql package when its binaries are missing. PostgreSQL refuses to run
# as root, so as root the server runs as the package's `postgres` user.
set -euo pipefail
PORT="${FACE3D_TEST_POSTGRES_PORT:-54329}"
DATA="${FACE3D_TEST_POSTGRES_DIR:-/tmp/face3d-test-postgres}"

bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ]; then
    echo "installing Debian's postgresql package" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$dir"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    BIN=$(bin_dir)
    rm -rf "$DATA"
    mkdir -p "$DATA"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$DATA"
    as_owner "$BIN/initdb" -D "$DATA" -U face3d --auth=trust -E UTF8 >/dev/null
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DATA -c fsync=off -c max_connections=300" start >&2
    echo "FACE3D_TEST_POSTGRES_URL=postgres://face3d@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    BIN=$(bin_dir)
    [ -d "$DATA" ] && as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2 || true
    rm -rf "$DATA"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
