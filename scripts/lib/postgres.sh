# shellcheck shell=bash
# Makes sure this machine can run a private PostgreSQL cluster: the server binaries (initdb,
# postgres) and, when we are root, the unprivileged account PostgreSQL runs as.
# Sourced by scripts/test and scripts/run.

fieldsync_find_pg_bin() {
  if [ -n "${FIELDSYNC_PG_BIN_DIR:-}" ] && [ -x "$FIELDSYNC_PG_BIN_DIR/initdb" ]; then
    echo "$FIELDSYNC_PG_BIN_DIR"; return 0
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then echo "$dir"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

fieldsync_ensure_postgres() {
  if ! fieldsync_find_pg_bin >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "PostgreSQL server binaries (initdb, postgres) are missing." >&2
      echo "Install them, then run this again:  sudo apt-get install -y postgresql" >&2
      echo "(or set FIELDSYNC_PG_BIN_DIR to a directory holding initdb and postgres)" >&2
      exit 1
    fi
    echo "Installing PostgreSQL server binaries from the system's packages..." >&2
    # Fieldsync runs private clusters; the package must not create and start a system one.
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
      mkdir -p /etc/postgresql-common
      echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fieldsync_find_pg_bin >/dev/null || { echo "PostgreSQL installed but initdb still not found" >&2; exit 1; }
  fi
  if [ "$(id -u)" -eq 0 ]; then
    local user="${FIELDSYNC_PG_USER:-postgres}"
    if ! id "$user" >/dev/null 2>&1; then
      echo "Creating the unprivileged '$user' account PostgreSQL runs as (it refuses root)..." >&2
      useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    fi
  fi
}
