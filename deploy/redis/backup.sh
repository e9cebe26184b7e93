#!/usr/bin/env bash
# Takes a consistent RDB snapshot of ExitBrain's Redis and keeps the newest few.
#
#   backup.sh [-u REDIS_URL] [-d BACKUP_DIR] [-k KEEP]
#
#   -u  redis://[user:password@]host:port/db   (default: $REDIS_URL, else redis://127.0.0.1:6379/0)
#   -d  folder for the backups                 (default: $BACKUP_DIR, else ./backups)
#   -k  how many backups to keep, newest first (default: $KEEP, else 7)
#
# Steps: wait for any BGSAVE already running, BGSAVE, poll LASTSAVE until it moves (120 s at
# most) and check INFO persistence says the save succeeded, then fetch a snapshot with
# `redis-cli --rdb` (works against a remote server: no shared filesystem needed) into
# BACKUP_DIR/exitbrain-YYYYmmddTHHMMSSZ.rdb, and delete all but the newest KEEP backups.
# Prints the path written on stdout; progress goes to stderr.
#
# The password is handed to redis-cli in REDISCLI_AUTH, never with -a, and is never printed.
# When the URL has no password, an REDISCLI_AUTH already in the environment is used (in the
# compose redis container: `docker compose exec redis bash /opt/exitbrain/backup.sh -d /backups`).
# Needs bash and redis-cli (Debian: redis-tools).
set -euo pipefail

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
dir="${BACKUP_DIR:-./backups}"
keep="${KEEP:-7}"
timeout_s=120

while getopts ":u:d:k:h" opt; do
  case "$opt" in
    u) url="$OPTARG" ;;
    d) dir="$OPTARG" ;;
    k) keep="$OPTARG" ;;
    h) usage 0 ;;
    :) echo "backup: -$OPTARG needs a value" >&2; usage ;;
    *) echo "backup: unknown option -$OPTARG" >&2; usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "backup: unexpected argument: $1" >&2; usage; }

log() { echo "backup: $*" >&2; }
die() { echo "backup: $*" >&2; exit 1; }

if ! [[ "$keep" =~ ^[1-9][0-9]*$ ]]; then die "KEEP must be a whole number of at least 1 (got '$keep')"; fi
command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found (Debian: apt-get install redis-tools)"

# --- parse redis://[user:password@]host[:port][/db], as the services do ------------------
percent_decode() {   # %XX escapes only; backslashes stay literal
  local s="${1//\\/\\\\}"
  printf '%b' "${s//%/\\x}"
}

[[ "$url" == redis://* ]] || die "REDIS_URL must look like redis://[user:password@]host:port/db"
rest="${url#redis://}"
user="" password=""
if [[ "$rest" == *@* ]]; then
  userinfo="${rest%@*}"
  rest="${rest##*@}"
  if [[ "$userinfo" == *:* ]]; then
    user="$(percent_decode "${userinfo%%:*}")"
    password="$(percent_decode "${userinfo#*:}")"
  else
    password="$(percent_decode "$userinfo")"   # redis://secret@host, the password-only form
  fi
fi
hostport="$rest" db=0
if [[ "$rest" == */* ]]; then
  hostport="${rest%%/*}"
  db="${rest#*/}"
  [ -n "$db" ] || db=0
fi
[[ "$db" =~ ^[0-9]+$ ]] || die "database in REDIS_URL must be a number (got '$db')"
port=6379
if [[ "$hostport" == \[*\]* ]]; then             # [ipv6]:port
  host="${hostport#[}"; host="${host%%]*}"
  after="${hostport#*]}"
  [ -z "$after" ] || port="${after#:}"
elif [[ "$hostport" == *:* ]]; then
  host="${hostport%:*}"
  port="${hostport##*:}"
else
  host="$hostport"
fi
[ -n "$host" ] || die "REDIS_URL has no host"
if ! [[ "$port" =~ ^[1-9][0-9]{0,4}$ ]] || [ "$port" -gt 65535 ]; then die "port in REDIS_URL must be 1-65535 (got '$port')"; fi
auth="$user"
[ -z "$password" ] || auth="$auth:****"
[ -z "$auth" ] || auth="$auth@"
masked="redis://$auth$hostport/$db"   # for messages: the password never appears

# The password reaches redis-cli through its environment only.
if [ -n "$password" ]; then export REDISCLI_AUTH="$password"; fi
unset password userinfo url

cli=(redis-cli -h "$host" -p "$port")
[ -z "$user" ] || cli+=(--user "$user")
r() { "${cli[@]}" -n "$db" "$@" 2>/dev/null; }

# redis-cli exits 0 on error replies when not on a terminal: check the text.
if [ "$(r PING | tr -d '\r')" != "PONG" ]; then
  why="$("${cli[@]}" -n "$db" PING 2>&1 | tr -d '\r' | tr '\n' ' ' | sed 's/ *$//' || true)"
  die "cannot use Redis at $masked: ${why:-no answer}"
fi

info_field() { r INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }
server_time() { r TIME | head -1 | tr -d '\r'; }

start=$SECONDS
deadline=$((start + timeout_s))

wait_no_bgsave() {
  while [ "$(info_field rdb_bgsave_in_progress)" = "1" ]; do
    [ $SECONDS -lt $deadline ] || die "a BGSAVE already in progress did not finish within ${timeout_s}s"
    sleep 0.2
  done
}

# 1. Let a save already running finish, then start ours. LASTSAVE has one-second resolution:
#    if the last save finished in the current second, wait for the next one so ours is seen.
while :; do
  wait_no_bgsave
  last="$(r LASTSAVE | tr -d '\r')"
  [[ "$last" =~ ^[0-9]+$ ]] || die "LASTSAVE gave '$last'"
  while [ "$(server_time)" -le "$last" ]; do sleep 0.1; done
  reply="$(r BGSAVE SCHEDULE | tr -d '\r')"
  case "$reply" in
    "Background saving started"|"Background saving scheduled") break ;;
    *"already in progress"*) log "another BGSAVE started meanwhile; waiting for it" ;;
    *) die "BGSAVE failed: $reply" ;;
  esac
  [ $SECONDS -lt $deadline ] || die "could not start a BGSAVE within ${timeout_s}s"
done
log "BGSAVE on $masked ($reply)"

# 2. Wait for it: LASTSAVE moves when a save completes.
while [ "$(r LASTSAVE | tr -d '\r')" = "$last" ]; do
  [ $SECONDS -lt $deadline ] || die "BGSAVE did not finish within ${timeout_s}s (see the Redis log)"
  sleep 0.2
done
wait_no_bgsave
status="$(info_field rdb_last_bgsave_status)"
[ "$status" = "ok" ] || die "BGSAVE finished with rdb_last_bgsave_status:$status (see the Redis log)"

# 3. Fetch a snapshot over the network into a temporary file, check it, then name it.
mkdir -p "$dir"
stamp() { date -u +%Y%m%dT%H%M%SZ; }
target="$dir/exitbrain-$(stamp).rdb"
while [ -e "$target" ]; do sleep 0.2; target="$dir/exitbrain-$(stamp).rdb"; done
partial="$dir/.exitbrain-$$.rdb.partial"
trap 'rm -f "$partial"' EXIT
if ! rdb_log="$("${cli[@]}" --rdb "$partial" 2>&1)"; then
  die "redis-cli --rdb failed: $(printf '%s' "$rdb_log" | tail -1)"
fi
[ -s "$partial" ] || die "redis-cli --rdb wrote nothing: $(printf '%s' "$rdb_log" | tail -1)"
[ "$(head -c 5 "$partial")" = "REDIS" ] || die "redis-cli --rdb did not produce an RDB file"
mv "$partial" "$target"
trap - EXIT

# 4. Keep the newest KEEP backups (names sort by time).
shopt -s nullglob
backups=("$dir"/exitbrain-[0-9]*T[0-9]*Z.rdb)
count=${#backups[@]}
if [ "$count" -gt "$keep" ]; then
  for old in "${backups[@]:0:count-keep}"; do
    rm -f -- "$old"
    log "removed $old"
  done
fi

log "wrote $target ($(wc -c <"$target") bytes, $((SECONDS - start))s)"
echo "$target"
