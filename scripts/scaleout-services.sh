#!/usr/bin/env bash
# The services of a scaled-out memplan on this machine, from Debian's packages: installs
# redis-server and postgresql when missing, starts PostgreSQL's cluster and a Redis server,
# and makes a PostgreSQL role and database for memplan. Idempotent: run it again and it
# changes nothing that is already there. Needs root (apt-get, the postgres account).
# Prints the two settings to export, e.g.:  eval "$(bash scripts/scaleout-services.sh)"
#   MEMPLAN_REDIS_URL=redis://127.0.0.1:6379
#   MEMPLAN_DATABASE_URL=postgres://memplan:memplan@127.0.0.1:5432/memplan
# The tests of `npm run test:scaleout` start Redis servers of their own (they stop and
# restart one) and make a database per run on this PostgreSQL.
set -euo pipefail

PG_ROLE=${MEMPLAN_PG_ROLE:-memplan}
PG_PASSWORD=${MEMPLAN_PG_PASSWORD:-memplan}
PG_DATABASE=${MEMPLAN_PG_DATABASE:-memplan}
REDIS_PORT=${MEMPLAN_REDIS_PORT:-6379}

log() { echo "scaleout-services: $*" >&2; }

packages=()
command -v redis-server >/dev/null || packages+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || packages+=(postgresql)
if [ ${#packages[@]} -gt 0 ]; then
  log "installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${packages[@]}" >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends "${packages[@]}" >&2; }
fi

# PostgreSQL: Debian's cluster (the newest version installed), started when down.
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  log "creating the PostgreSQL $version cluster"
  pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  log "starting PostgreSQL $version"
  pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
as_postgres() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -tAc \"$1\"" ; }
if [ "$(as_postgres "SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE'")" != "1" ]; then
  log "creating the role $PG_ROLE"
  as_postgres "CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >&2
fi
if [ "$(as_postgres "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'")" != "1" ]; then
  log "creating the database $PG_DATABASE"
  as_postgres "CREATE DATABASE $PG_DATABASE OWNER $PG_ROLE" >&2
fi

# Redis: a server on REDIS_PORT unless one answers there already.
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  log "starting redis-server on port $REDIS_PORT"
  redis-server --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no >&2
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

echo "MEMPLAN_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
echo "MEMPLAN_DATABASE_URL=postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$port/$PG_DATABASE"
