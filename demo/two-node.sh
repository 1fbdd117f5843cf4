#!/bin/bash
# demo/two-node.sh - two-node failover demo in a private network-namespace lab.
#
# Starts nodes alpha (host 1) and bravo (host 2) with tests/data/lab/rsc-on
# (bcast, keepalive 500ms, deadtime 3, auto_failback on, resource group
# "IPaddr2::198.18.0.100/24/eth0 labsvc" homed on alpha),
# shows their status, kills the node that owns the resource with SIGKILL (a
# crash), watches the survivor take over, restarts the crashed node and watches
# the resource fail back (auto_failback on). Tears everything down on exit.
#
#   IMPL=ours (default)  this project: target/release/heartbeat -f --confdir /etc/ha.d
#                        and target/release/cl_status (built if missing)
#   IMPL=real            Debian's Heartbeat 3.0.6 (/usr/libexec/heartbeat/heartbeat)
#
# Root only. Needs tests/harness/install-deps.sh to have run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB="$ROOT/tests/harness/lab.sh"
CONF="$ROOT/tests/data/lab/rsc-on"
IMPL=${IMPL:-ours}
bash "$ROOT/tests/harness/install-deps.sh" >/dev/null
export LAB_PREFIX=demo2-$$-
export LAB_QUIET=1
NODES=(alpha bravo) # node of host 1, host 2

case "$IMPL" in
ours)
	HB="$ROOT/target/release/heartbeat" CL="$ROOT/target/release/cl_status"
	if [ ! -x "$HB" ] || [ ! -x "$CL" ]; then
		echo "building release binaries..."
		(cd "$ROOT" && cargo build --release --bins)
	fi
	;;
real) CL=cl_status ;;
*) echo "IMPL must be ours or real" >&2; exit 2 ;;
esac

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
say() { printf '\n[%s] %s\n' "$(date +%T)" "$*"; }

start_node() { # HOSTNUM
	local h=$1 node=${NODES[$1 - 1]}
	if [ "$IMPL" = real ]; then
		"$LAB" real "h$h" "$CONF" "$node" >/dev/null
	else
		"$LAB" run "h$h" --node "$node" --conf "$CONF" -- "$HB" -f --confdir /etc/ha.d >/dev/null
	fi
	echo "started $node in host h$h ($IMPL)"
}

owner() { # prints the host number whose labsvc runs, if any
	local h
	for h in 1 2; do
		[ -f "$("$LAB" dir "h$h")/run/labsvc/labsvc.state" ] && echo "$h"
	done
	return 0
}

cl() { # HOSTNUM ARGS...: cl_status inside a host; "?" when it says nothing
	local out
	out=$("$LAB" exec "h$1" "$CL" "${@:2}" 2>/dev/null || true)
	echo "${out:-?}"
}

vip() { # HOSTNUM: "up" when the group's address is on the host's eth0
	"$LAB" exec "h$1" ip -o -4 addr show dev eth0 2>/dev/null | grep -q ' 198\.18\.0\.100/' && echo up || echo down
}

status() {
	local h
	for h in 1 2; do
		printf '  h%s (%s): heartbeat %s; alpha=%s bravo=%s; resources=%s; labsvc=%s; 198.18.0.100=%s\n' "$h" "${NODES[$h - 1]}" \
			"$("$LAB" exec "h$h" "$CL" hbstatus >/dev/null 2>&1 && echo running || echo stopped)" \
			"$(cl "$h" nodestatus alpha)" "$(cl "$h" nodestatus bravo)" "$(cl "$h" rscstatus)" \
			"$( [ "$(owner)" = "$h" ] && echo running || echo stopped)" "$(vip "$h")"
	done
}

# wait_until SECONDS CMD...: polls CMD every 0.25 s.
wait_until() {
	local end=$(($(date +%s) + $1)); shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.25
	done
}
owned_by() { [ "$(owner)" = "$1" ]; }
both_active() {
	local h n
	for h in 1 2; do for n in alpha bravo; do
		[ "$("$LAB" exec "h$h" "$CL" nodestatus "$n" 2>/dev/null)" = active ] || return 1
	done; done
}

trap '"$LAB" down "$LAB_PREFIX" --purge' EXIT
say "lab: two hosts on a private bridge (198.18.0.1, 198.18.0.2)"
"$LAB" up "$LAB_PREFIX" 2

say "starting both nodes"
t=$(now)
start_node 1
start_node 2
wait_until 30 both_active || { echo "nodes did not become active"; status; exit 1; }
echo "both nodes active after $(since "$t") s"
wait_until 40 owned_by 1 || { echo "alpha did not acquire labsvc"; status; exit 1; }
echo "alpha owns labsvc after $(since "$t") s"
status

# For 5 s after its start a node advertises deadtime + 2 s (as Heartbeat
# does); crash alpha after that window so the failover shows plain deadtime.
sleep "$(awk -v a="$t" -v b="$(now)" 'BEGIN { d = 6 - (b - a); print (d > 0 ? d : 0) }')"
say "crash: SIGKILL every process of alpha (host h1)"
t=$(now)
"$LAB" kill h1 --crash
wait_until 30 owned_by 2 || { echo "bravo did not take over"; status; exit 1; }
echo "bravo took labsvc over $(since "$t") s after the crash"
grep -h 'is dead' "$("$LAB" dir h2)/log/ha-log" 2>/dev/null | tail -1 || true
status

say "alpha comes back: auto_failback moves labsvc home"
t=$(now)
start_node 1
wait_until 60 owned_by 1 || { echo "no failback"; status; exit 1; }
echo "labsvc back on alpha after $(since "$t") s"
status
say "demo done; tearing the lab down"
