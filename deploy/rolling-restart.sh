#!/usr/bin/env bash
# Restart Hearth instances behind nginx (deploy/nginx/hearth.conf) one at a time, without failing
# a request and without reloading nginx.
#
#   deploy/rolling-restart.sh --url http://127.0.0.1 \
#       --drain 'systemctl kill --signal=SIGUSR2 "hearth@$PORT"' \
#       --stop 'systemctl stop "hearth@$PORT"' --start 'systemctl start "hearth@$PORT"' \
#       127.0.0.1:8091 127.0.0.1:8092 127.0.0.1:8093
#
# For each instance HOST:PORT (as in the upstream's `server` lines), in the order given:
#
#   1. --drain sends the instance SIGUSR2: from then on it answers 503 to every request nginx may
#      send elsewhere (all but POST and PATCH; not run), serves POST and PATCH, closes each
#      connection after its response and ends its realtime streams (the clients reconnect
#      through nginx to another instance);
#   2. GET /api/health through nginx (--url) until nginx has been answered such a 503 by it (the
#      instance counts those, from requests with X-Forwarded-For, in its X-Hearth-Sent-Away
#      header): nginx then sends it nothing new for the upstream's fail_timeout (max_fails=1), and
#      leaves its idle connections to it unused;
#   3. wait --settle seconds for POSTs and PATCHes already on their way, then --stop, which must
#      return once the instance has exited (Hearth finishes the requests in flight first);
#   4. --start, then wait until GET http://HOST:PORT/api/health answers 200 (--health-timeout);
#   5. before the next instance, wait --fail-timeout seconds (the upstream's fail_timeout): by
#      then nginx has taken this one back.
#
# Why not mark the instance `down` and reload nginx: a reload makes nginx's old workers close
# their idle client keep-alive connections at once, and a client request that arrives on one at
# that moment is lost (docs/deploy.md has the measurements). Why not a bare SIGTERM: requests
# nginx writes into an idle connection just as Hearth closes it are lost, and a POST is then 502.
#
# --drain, --stop and --start are shell commands, run with INSTANCE (HOST:PORT), HOST and PORT
# exported. Any failure stops the script with a non-zero status and says which instance.
#
# Options:
#   --url URL                nginx, as the clients reach it (default http://127.0.0.1)
#   --drain CMD, --stop CMD, --start CMD
#   --settle SECONDS         after nginx left the instance out, before --stop (default 1)
#   --fail-timeout SECONDS   the upstream's fail_timeout (default 3)
#   --health-timeout SECONDS longest wait for /api/health after --start (default 60)
#
# Needs curl. Prints one line per instance with how long each step took.
set -euo pipefail

url="http://127.0.0.1" drain_cmd="" stop_cmd="" start_cmd=""
settle=1 fail_timeout=3 health_timeout=60
instances=()
usage() { sed -n '2,42p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url=${2%/}; shift 2 ;;
    --drain) drain_cmd=$2; shift 2 ;;
    --stop) stop_cmd=$2; shift 2 ;;
    --start) start_cmd=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --fail-timeout) fail_timeout=$2; shift 2 ;;
    --health-timeout) health_timeout=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "rolling-restart: unknown option $1" >&2; usage ;;
    *) instances+=("$1"); shift ;;
  esac
done
[ -n "$drain_cmd" ] && [ -n "$stop_cmd" ] && [ -n "$start_cmd" ] && [ ${#instances[@]} -gt 0 ] || usage
command -v curl >/dev/null || { echo "rolling-restart: needs curl" >&2; exit 1; }

die() { echo "rolling-restart: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
past() { awk -v d="$1" -v t="$(now)" 'BEGIN { exit !(t > d) }'; }
after() { awk -v t="$(now)" -v s="$1" 'BEGIN { printf "%.3f", t + s }'; }

# The instance's own answer to GET /api/health: "200", or "503 N" while draining (N requests that
# came through a proxy sent away so far, by the process that answered), or "000" when it does not
# answer.
own_health() {
  curl -s -o /dev/null -D - --max-time 2 "http://$INSTANCE/api/health" 2>/dev/null \
    | tr -d '\r' | awk 'NR == 1 { code = $2 } tolower($1) == "x-hearth-sent-away:" { n = " " $2 }
                        END { print (code ? code : "000") n }' || echo 000
}

first=1
for INSTANCE in "${instances[@]}"; do
  HOST=${INSTANCE%:*} PORT=${INSTANCE##*:}
  export INSTANCE HOST PORT
  if [ "$first" = 0 ]; then sleep "$fail_timeout"; fi
  first=0
  t0=$(now)
  sh -c "$drain_cmd" || die "--drain failed for $INSTANCE"
  deadline=$(after 10)
  until [[ "$(own_health)" == 503\ * ]]; do
    past "$deadline" && die "$INSTANCE does not drain (its /api/health still answers $(own_health))"
    sleep 0.05
  done
  probes=0 deadline=$(after 10)
  until n=$(own_health | awk '{ print $2 }'); [ "${n:-0}" -ge 1 ]; do
    past "$deadline" && die "nginx at $url sent $INSTANCE no request in 10 s (is it in the upstream?)"
    for _ in "${instances[@]}" x; do
      curl -s -o /dev/null --max-time 5 "$url/api/health" || true
      probes=$((probes + 1))
    done
  done
  t_out=$(since "$t0")
  sleep "$settle"
  t2=$(now)
  sh -c "$stop_cmd" || die "--stop failed for $INSTANCE"
  t_stop=$(since "$t2")
  t3=$(now)
  sh -c "$start_cmd" || die "--start failed for $INSTANCE"
  deadline=$(after "$health_timeout")
  until [ "$(own_health)" = 200 ]; do
    past "$deadline" && die "$INSTANCE not healthy ${health_timeout} s after --start"
    sleep 0.1
  done
  t_start=$(since "$t3")
  echo "rolling-restart: $INSTANCE restarted in $(since "$t0") s (out of nginx after $t_out s and" \
    "$probes probes, settle $settle s, stop $t_stop s, start to healthy $t_start s)"
done
