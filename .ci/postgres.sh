#!/usr/bin/env bash
# Installs (if needed) and starts a throw-away PostgreSQL on loopback for the
# tests that claim PostgreSQL behaviour. Source it: it exports
# MODERATION_TEST_POSTGRES_URL and registers a trap that stops the server.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
PG_PORT=${PG_PORT:-54329}
PG_DIR=$(mktemp -d /tmp/moderation-pg.XXXXXX)
chown postgres "$PG_DIR"
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
as_postgres "'$PG_BIN/initdb' -D '$PG_DIR/data' -U postgres --auth=trust -E UTF8 >/dev/null"
as_postgres "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -l '$PG_DIR/log' -w \
  -o \"-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories='$PG_DIR' -c max_connections=200 -c fsync=off\" start >/dev/null"
stop_postgres() { as_postgres "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -m fast stop >/dev/null" || true; rm -rf "$PG_DIR"; }
trap stop_postgres EXIT
export MODERATION_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
echo "PostgreSQL for tests at $MODERATION_TEST_POSTGRES_URL"
