#!/usr/bin/env bash
# Restart Hearth instances behind nginx one at a time, without failing a request.
#
#   deploy/rolling-restart.sh --conf /etc/nginx/conf.d/hearth.conf \
#       --stop 'systemctl stop "hearth@$PORT"' --start 'systemctl start "hearth@$PORT"' \
#       127.0.0.1:8091 127.0.0.1:8092 127.0.0.1:8093
#
# For each instance HOST:PORT, in the order given (each must have a `server HOST:PORT ...;` line
# of its own in the upstream block of --conf, as in deploy/nginx/hearth.conf):
#
#   1. mark it `down` in --conf, check the configuration (nginx -t) and reload nginx; wait until
#      every nginx worker of the old configuration has stopped taking requests;
#   2. drain: wait until those old workers have exited (they do once their requests are done),
#      at most --drain seconds (a realtime stream keeps its old worker alive until step 3 ends it);
#   3. run --stop, which must return once the instance has exited. Hearth, on SIGTERM, stops
#      accepting, finishes the requests in flight and ends its realtime streams (the clients
#      reconnect through nginx to another instance);
#   4. run --start, and wait until GET http://HOST:PORT/api/health answers 200 (--health-timeout);
#   5. remove `down`, check and reload nginx.
#
# --stop and --start are shell commands, run with INSTANCE (HOST:PORT), HOST and PORT exported.
# Any failure stops the script with a non-zero status; the instance being restarted is then left
# marked `down` (nginx keeps serving from the others) and the message says what to do.
#
# Options:
#   --conf FILE           the nginx file holding the upstream's `server` lines (edited in place)
#   --nginx CMD           how to run nginx for `-t` and `-s reload` (default: nginx)
#   --pid-file FILE       nginx's pid file (default: /run/nginx.pid)
#   --stop CMD, --start CMD
#   --drain SECONDS       longest wait for the old nginx workers (default 10)
#   --health-timeout SECONDS   longest wait for /api/health after --start (default 60)
#
# Prints one line per instance with how long each step took.
set -euo pipefail

conf="" nginx_cmd="nginx" pid_file="/run/nginx.pid" stop_cmd="" start_cmd=""
drain=10 health_timeout=60
instances=()
usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --conf) conf=$2; shift 2 ;;
    --nginx) nginx_cmd=$2; shift 2 ;;
    --pid-file) pid_file=$2; shift 2 ;;
    --stop) stop_cmd=$2; shift 2 ;;
    --start) start_cmd=$2; shift 2 ;;
    --drain) drain=$2; shift 2 ;;
    --health-timeout) health_timeout=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "rolling-restart: unknown option $1" >&2; usage ;;
    *) instances+=("$1"); shift ;;
  esac
done
[ -n "$conf" ] && [ -n "$stop_cmd" ] && [ -n "$start_cmd" ] && [ ${#instances[@]} -gt 0 ] || usage
[ -w "$conf" ] || { echo "rolling-restart: cannot write $conf" >&2; exit 1; }

die() { echo "rolling-restart: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# The `server HOST:PORT ...;` line of an instance, with or without ` down`.
server_re() { printf '^[[:space:]]*server[[:space:]]+%s([[:space:]][^;]*)?;' "${1//./\\.}"; }

set_down() { # INSTANCE on|off
  local re; re=$(server_re "$1")
  [ "$(grep -cE "$re" "$conf")" = 1 ] || die "$conf must have exactly one 'server $1 ...;' line"
  local tmp="$conf.rolling-restart.tmp"
  if [ "$2" = on ]; then
    sed -E "/$re/{/[[:space:]]down[[:space:];]/!s/;/ down;/}" "$conf" > "$tmp"
  else
    sed -E "/$re/s/[[:space:]]+down([[:space:]]*;|[[:space:]])/\\1/" "$conf" > "$tmp"
  fi
  cat "$tmp" > "$conf" && rm -f "$tmp" # keeps the file's owner and mode
}

workers() { # the master's worker processes, with their titles
  local master; master=$(cat "$pid_file" 2>/dev/null) || die "no nginx pid file $pid_file (is nginx running?)"
  local pid
  for pid in $(pgrep -P "$master" 2>/dev/null); do
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'worker process' && echo "$pid"
  done
  return 0
}
shutting_down() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q 'shutting down'; }
alive() { [ -e "/proc/$1" ] && ! awk '{ exit ($3 != "Z") }' "/proc/$1/stat" 2>/dev/null; }

reload() { # check the configuration, reload, and wait until the old workers took no more requests
  sh -c "$nginx_cmd -t -q" || die "nginx -t refused $conf; nothing reloaded"
  old=$(workers)
  sh -c "$nginx_cmd -s reload" || die "nginx -s reload failed"
  local deadline; deadline=$(awk -v t="$(now)" 'BEGIN { print t + 10 }')
  local pid pending
  while :; do
    pending=0
    for pid in $old; do
      if alive "$pid" && ! shutting_down "$pid"; then pending=1; fi
    done
    [ "$pending" = 0 ] && [ -n "$(comm -13 <(echo "$old" | sort) <(workers | sort))" ] && return 0
    awk -v d="$deadline" -v t="$(now)" 'BEGIN { exit !(t > d) }' && die "nginx did not reload within 10 s (see its error log)"
    sleep 0.05
  done
}

drain_old_workers() { # wait until the old workers exited, at most $drain seconds
  local deadline; deadline=$(awk -v t="$(now)" -v s="$drain" 'BEGIN { print t + s }')
  local pid
  while :; do
    local left=0
    for pid in $old; do alive "$pid" && left=1; done
    [ "$left" = 0 ] && return 0
    awk -v d="$deadline" -v t="$(now)" 'BEGIN { exit !(t > d) }' && return 0
    sleep 0.05
  done
}

healthy() {
  if command -v curl >/dev/null; then
    curl -fsS -o /dev/null --max-time 2 "http://$INSTANCE/api/health" 2>/dev/null
  else
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
      "http://$INSTANCE/api/health" 2>/dev/null
  fi
}

for INSTANCE in "${instances[@]}"; do
  HOST=${INSTANCE%:*} PORT=${INSTANCE##*:}
  export INSTANCE HOST PORT
  t0=$(now)
  set_down "$INSTANCE" on
  reload
  t_reload=$(since "$t0")
  t1=$(now)
  drain_old_workers
  t_drain=$(since "$t1")
  t2=$(now)
  sh -c "$stop_cmd" || die "--stop failed for $INSTANCE; it stays marked down in $conf"
  t_stop=$(since "$t2")
  t3=$(now)
  sh -c "$start_cmd" || die "--start failed for $INSTANCE; it stays marked down in $conf"
  deadline=$(awk -v t="$(now)" -v s="$health_timeout" 'BEGIN { print t + s }')
  until healthy; do
    awk -v d="$deadline" -v t="$(now)" 'BEGIN { exit !(t > d) }' \
      && die "$INSTANCE not healthy ${health_timeout} s after --start; it stays marked down in $conf"
    sleep 0.1
  done
  t_start=$(since "$t3")
  t4=$(now)
  set_down "$INSTANCE" off
  reload
  t_back=$(since "$t4")
  echo "rolling-restart: $INSTANCE restarted in $(since "$t0") s" \
    "(reload $t_reload s, drain $t_drain s, stop $t_stop s, start to healthy $t_start s, back in nginx $t_back s)"
done
