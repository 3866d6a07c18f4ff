#!/usr/bin/env bash
# Make sure the backing services of the test suite are up:
#   - PostgreSQL on 127.0.0.1:$ACRE_PG_PORT (default 5432), user "postgres",
#     trust authentication for local socket and loopback TCP connections;
#   - Redis on 127.0.0.1:$ACRE_REDIS_PORT (default 6379).
# Idempotent: services that already answer are left alone.
set -euo pipefail

PG_PORT="${ACRE_PG_PORT:-5432}"
REDIS_PORT="${ACRE_REDIS_PORT:-6379}"
PG_TIMEOUT=60
REDIS_TIMEOUT=30

log() { echo "start-services: $*"; }
die() { echo "start-services: ERROR: $*" >&2; exit 1; }

if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=()
fi

# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres >/dev/null 2>&1; }

pg_login_ok() {
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -Atqc 'select 1' \
        </dev/null >/dev/null 2>&1
}

# Port configured in /etc/postgresql/<version>/<name>/postgresql.conf.
pg_conf_port() {
    awk -F= '/^[[:space:]]*port[[:space:]]*=/ { sub(/#.*/, "", $2); gsub(/[^0-9]/, "", $2); p = $2 }
             END { print (p == "" ? 5432 : p) }' "$1"
}

# Prints "<version> <name>" of the cluster configured for $PG_PORT, if any.
# Prefers the newest version; clusters are looked up under /etc/postgresql.
find_cluster() {
    local conf ver name confs=(/etc/postgresql/*/*/postgresql.conf)
    [[ -e "${confs[0]}" ]] || return 0
    while IFS= read -r conf; do
        ver="$(basename "$(dirname "$(dirname "$conf")")")"
        name="$(basename "$(dirname "$conf")")"
        if [[ "$(pg_conf_port "$conf")" == "$PG_PORT" ]]; then
            echo "$ver $name"
            return 0
        fi
    done < <(printf '%s\n' "${confs[@]}" | sort -t/ -k4,4Vr)
    return 0
}

write_trust_hba() {
    local hba="$1"
    log "writing trust rules to $hba"
    "${SUDO[@]}" tee "$hba" >/dev/null <<'HBA'
# Written by infra/start-services.sh for development and CI machines only:
# every local socket and loopback TCP connection is trusted.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
host    all       all   ::1/128        trust
local   replication all                trust
host    replication all 127.0.0.1/32   trust
host    replication all ::1/128        trust
HBA
}

# Put trust rules in front of an existing pg_hba.conf (keeping the rest).
prepend_trust_hba() {
    local hba="$1" tmp
    tmp="$(mktemp)"
    {
        echo "# Added by infra/start-services.sh: trust local and loopback connections."
        echo "local   all  all                 trust"
        echo "host    all  all  127.0.0.1/32   trust"
        echo "host    all  all  ::1/128        trust"
        cat "$hba"
    } >"$tmp"
    "${SUDO[@]}" cp "$tmp" "$hba"
    rm -f "$tmp"
}

ensure_socket_dir() {
    if [[ ! -d /var/run/postgresql ]]; then
        "${SUDO[@]}" install -d -o postgres -g postgres -m 2775 /var/run/postgresql
    fi
}

wait_for_pg() {
    local deadline=$((SECONDS + PG_TIMEOUT))
    until pg_ready; do
        if ((SECONDS >= deadline)); then
            return 1
        fi
        sleep 1
    done
}

start_postgres() {
    command -v pg_isready >/dev/null 2>&1 ||
        die "pg_isready not found; run infra/install-debian-packages.sh first"

    if pg_ready; then
        log "PostgreSQL already accepting connections on 127.0.0.1:$PG_PORT"
    else
        local cluster ver name
        cluster="$(find_cluster)"
        if [[ -n "$cluster" ]]; then
            read -r ver name <<<"$cluster"
            log "starting existing PostgreSQL cluster $ver/$name on port $PG_PORT"
        else
            local servers=(/usr/lib/postgresql/*/bin/postgres)
            ver=""
            if [[ -e "${servers[0]}" ]]; then
                ver="$(printf '%s\n' "${servers[@]}" | awk -F/ '{print $5}' | sort -V | tail -n1)"
            fi
            [[ -n "$ver" ]] || die "no PostgreSQL server installed; run infra/install-debian-packages.sh first"
            name=main
            if [[ -e "/etc/postgresql/$ver/$name" ]]; then
                # "main" exists but listens on another port: make a separate cluster.
                name=acre
            fi
            log "creating PostgreSQL cluster $ver/$name on port $PG_PORT"
            # Listen on both loopback addresses (a missing ::1 is only a warning).
            "${SUDO[@]}" pg_createcluster -p "$PG_PORT" \
                -o "listen_addresses=127.0.0.1,::1" "$ver" "$name" >/dev/null
            write_trust_hba "/etc/postgresql/$ver/$name/pg_hba.conf"
        fi
        ensure_socket_dir
        "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start ||
            log "pg_ctlcluster start exited with $?; waiting for the server anyway"

        if ! wait_for_pg; then
            local logf="/var/log/postgresql/postgresql-$ver-$name.log"
            [[ -r "$logf" ]] && tail -n 30 "$logf" >&2
            die "PostgreSQL not ready on 127.0.0.1:$PG_PORT after ${PG_TIMEOUT}s"
        fi
        log "PostgreSQL $ver/$name is accepting connections on 127.0.0.1:$PG_PORT"
    fi

    # Connections as "postgres" over loopback TCP must work without a password.
    if command -v psql >/dev/null 2>&1 && ! pg_login_ok; then
        local cluster ver name
        cluster="$(find_cluster)"
        [[ -n "$cluster" ]] ||
            die "cannot log in as postgres on 127.0.0.1:$PG_PORT and no cluster config found to fix it"
        read -r ver name <<<"$cluster"
        log "passwordless login as postgres failed; adding trust rules to cluster $ver/$name"
        prepend_trust_hba "/etc/postgresql/$ver/$name/pg_hba.conf"
        "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload
        sleep 1
        pg_login_ok || die "still cannot log in as postgres on 127.0.0.1:$PG_PORT"
        log "passwordless login as postgres now works"
    fi
}

# --------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------

redis_ping() {
    [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping </dev/null 2>/dev/null)" == "PONG" ]]
}

start_redis() {
    command -v redis-cli >/dev/null 2>&1 ||
        die "redis-cli not found; run infra/install-debian-packages.sh first"

    if redis_ping; then
        log "Redis already answering on 127.0.0.1:$REDIS_PORT"
        return 0
    fi
    command -v redis-server >/dev/null 2>&1 ||
        die "redis-server not found; run infra/install-debian-packages.sh first"

    local dir="${ACRE_REDIS_DIR:-${TMPDIR:-/tmp}/acre-redis-$REDIS_PORT}"
    mkdir -p "$dir"
    local logfile="$dir/redis.log"
    log "starting redis-server on 127.0.0.1:$REDIS_PORT (dir $dir)"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
        --save "" --appendonly no --dir "$dir" --logfile "$logfile" \
        --pidfile "$dir/redis.pid"

    local deadline=$((SECONDS + REDIS_TIMEOUT))
    until redis_ping; do
        if ((SECONDS >= deadline)); then
            [[ -r "$logfile" ]] && tail -n 30 "$logfile" >&2
            die "Redis not answering on 127.0.0.1:$REDIS_PORT after ${REDIS_TIMEOUT}s"
        fi
        sleep 0.5
    done
    log "Redis is answering on 127.0.0.1:$REDIS_PORT"
}

start_postgres
start_redis
