#!/bin/bash
# record-cl_status.sh - golden fixtures of the REAL cl_status against two REAL
# Heartbeat 3.0.6 nodes (alpha, bravo; tests/data/lab/bcast) in a namespace lab.
#
#   tests/harness/record-cl_status.sh [OUTDIR]     (root; default tests/data/control/real)
#
# For every state (both-active, peer-dead, refused, stopped) and every command line
# in CASES, OUTDIR/STATE/NAME.{out,err,rc} hold stdout, stderr (timestamp and pid
# replaced by <TS> and <PID>) and the exit code of `cl_status ARGS` run on alpha.
# OUTDIR/dialogue/NAME.txt is the API dialogue (decoded strace) of a few commands.
# Only needed again when the cases change; tests read the recorded files.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${1:-$REPO/tests/data/control/real}
CONF=$REPO/tests/data/lab/bcast
PREFIX=clrec-$$-
export LAB_DIR=/tmp/hbrs-lab-clrec-$$
export LAB_OWNER_PID=$$
LAB="bash $HERE/lab.sh"
export LAB_QUIET=1

cleanup() { $LAB down "$PREFIX" --purge || true; }
trap cleanup EXIT

# NAME|ARGS (ARGS split on spaces; no quoting needed for these cases)
CASES=(
	"usage|"
	"help|-h"
	"bogus|bogus"
	"test|test"
	"hbstatus|hbstatus"
	"hbstatus-v|hbstatus -v"
	"hbstatus-m|hbstatus -m"
	"hbstatus-mv|hbstatus -m -v"
	"listnodes|listnodes"
	"listnodes-v|listnodes -v"
	"listnodes-n|listnodes -n"
	"listnodes-p|listnodes -p"
	"listnodes-np|listnodes -n -p"
	"listnodes-m|listnodes -m"
	"listnodes-x|listnodes -x"
	"nodestatus-alpha|nodestatus alpha"
	"nodestatus-bravo|nodestatus bravo"
	"nodestatus-m-bravo|nodestatus -m bravo"
	"nodestatus-bravo-m|nodestatus bravo -m"
	"nodestatus-nosuch|nodestatus nosuch"
	"nodestatus-none|nodestatus"
	"nodestatus-x|nodestatus -x alpha"
	"nodetype-alpha|nodetype alpha"
	"nodetype-m-bravo|nodetype -m bravo"
	"nodetype-nosuch|nodetype nosuch"
	"nodetype-none|nodetype"
	"nodeweight-alpha|nodeweight alpha"
	"nodeweight-m-bravo|nodeweight -m bravo"
	"nodeweight-nosuch|nodeweight nosuch"
	"nodeweight-none|nodeweight"
	"nodesite-alpha|nodesite alpha"
	"nodesite-m-bravo|nodesite -m bravo"
	"nodesite-nosuch|nodesite nosuch"
	"listhblinks-alpha|listhblinks alpha"
	"listhblinks-bravo-v|listhblinks bravo -v"
	"listhblinks-m-bravo|listhblinks -m bravo"
	"listhblinks-mv-bravo|listhblinks -m -v bravo"
	"listhblinks-nosuch|listhblinks nosuch"
	"listhblinks-none|listhblinks"
	"hblinkstatus-alpha|hblinkstatus alpha eth0"
	"hblinkstatus-bravo|hblinkstatus bravo eth0"
	"hblinkstatus-m-bravo|hblinkstatus -m bravo eth0"
	"hblinkstatus-badif|hblinkstatus bravo eth9"
	"hblinkstatus-nosuch|hblinkstatus nosuch eth0"
	"hblinkstatus-none|hblinkstatus bravo"
	"clientstatus-alpha|clientstatus alpha foo"
	"clientstatus-m-alpha|clientstatus -m alpha foo"
	"clientstatus-bravo|clientstatus bravo foo 3000"
	"clientstatus-nosuch|clientstatus nosuch foo"
	"clientstatus-none|clientstatus alpha"
	"rscstatus|rscstatus"
	"rscstatus-m|rscstatus -m"
	"hbparameter-deadtime|hbparameter -p deadtime"
	"hbparameter-m-deadtime|hbparameter -m -p deadtime"
	"hbparameter-keepalive|hbparameter -p keepalive"
	"hbparameter-warntime|hbparameter -p warntime"
	"hbparameter-initdead|hbparameter -p initdead"
	"hbparameter-udpport|hbparameter -p udpport"
	"hbparameter-auto_failback|hbparameter -p auto_failback"
	"hbparameter-pacemaker|hbparameter -p pacemaker"
	"hbparameter-crm|hbparameter -p crm"
	"hbparameter-hbversion|hbparameter -p hbversion"
	"hbparameter-logfacility|hbparameter -p logfacility"
	"hbparameter-logfile|hbparameter -p logfile"
	"hbparameter-debug|hbparameter -p debug"
	"hbparameter-baud|hbparameter -p baud"
	"hbparameter-cluster|hbparameter -p cluster"
	"hbparameter-node|hbparameter -p node"
	"hbparameter-bcast|hbparameter -p bcast"
	"hbparameter-deadping|hbparameter -p deadping"
	"hbparameter-memreserve|hbparameter -p memreserve"
	"hbparameter-nosuch|hbparameter -p nosuch"
	"hbparameter-none|hbparameter"
	"hbparameter-noarg|hbparameter -p"
)
# Commands whose API dialogue is recorded (state both-active).
DIALOGUE=(hbstatus-v nodestatus-alpha nodetype-alpha nodeweight-alpha nodesite-alpha
	listhblinks-bravo-v hblinkstatus-bravo hblinkstatus-badif clientstatus-alpha
	clientstatus-bravo rscstatus hbparameter-deadtime hbparameter-nosuch nodestatus-nosuch
	test)

normalize() {
	sed -E -e 's/^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} /<TS> /' \
		-e 's/\[[0-9]+\]/[<PID>]/g'
}

# record STATE [RUNNER...]: every case on host 1, through RUNNER (e.g. runuser).
record() {
	local state=$1 c name args
	shift
	mkdir -p "$OUT/$state"
	for c in "${CASES[@]}"; do
		name=${c%%|*} args=${c#*|}
		# shellcheck disable=SC2086 # ARGS are split on purpose
		set +e
		$LAB exec "${PREFIX}h1" "$@" ${CL_STATUS:-cl_status} $args >"$OUT/$state/$name.out" 2>"$OUT/$state/$name.err.raw"
		echo $? >"$OUT/$state/$name.rc"
		set -e
		normalize <"$OUT/$state/$name.err.raw" >"$OUT/$state/$name.err"
		rm -f "$OUT/$state/$name.err.raw"
	done
	echo "recorded $state" >&2
}

# dialogue NAME [RUNNER...] :: ARGS...: decoded API dialogue of one cl_status run.
dialogue() {
	local name=$1 runner=() log
	shift
	while [ "$1" != :: ]; do runner+=("$1"); shift; done
	shift
	log=$($LAB dir "${PREFIX}h1")/log/strace.txt
	mkdir -p "$OUT/dialogue"
	$LAB exec "${PREFIX}h1" strace -f -xx -s 65535 -e trace=connect,sendto,recvfrom \
		-o /var/log/strace.txt "${runner[@]+"${runner[@]}"}" ${CL_STATUS:-cl_status} "$@" >/dev/null 2>&1 || true
	{
		echo "# cl_status $*"
		python3 "$HERE/api-dialogue.py" <"$log" | sed -E 's/(pid|from_id|to_id)=[0-9]+/\1=<PID>/'
	} >"$OUT/dialogue/$name.txt"
}

dialogues() {
	local c name args
	for c in "${CASES[@]}"; do
		name=${c%%|*} args=${c#*|}
		[[ " ${DIALOGUE[*]} " == *" $name "* ]] || continue
		# shellcheck disable=SC2086 # ARGS are split on purpose
		dialogue "$name" :: $args
	done
	echo "recorded dialogues" >&2
}

status_of() { $LAB exec "${PREFIX}h1" cl_status "$@" 2>/dev/null || true; }
settled() { # $1 = wanted peer status, $2 = wanted rscstatus
	[ "$(status_of nodestatus bravo)" = "$1" ] && [ "$(status_of rscstatus)" = "$2" ]
}
wait_for() { # SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || { echo "timeout waiting for: $*" >&2; return 1; }
		sleep 0.5
	done
}

$LAB up "$PREFIX" 2
$LAB real "${PREFIX}h1" "$CONF" alpha >/dev/null
$LAB real "${PREFIX}h2" "$CONF" bravo >/dev/null
# alpha owns labsvc once the nice_failback negotiation has finished
wait_for 60 settled active local
record both-active
dialogues

# cl_status without its setgid bit, run as nobody with haclient as a supplementary
# group: it may connect (/run/heartbeat is 750 root:haclient) but apiauth anon
# (uid=root gid=haclient, primary gid only) refuses the sign-on.
cp /usr/bin/cl_status /tmp/cl_status.nosgid.$$
chmod 755 /tmp/cl_status.nosgid.$$
REFUSED=(runuser -u nobody -g nogroup -G haclient --)
CL_STATUS=/tmp/cl_status.nosgid.$$ record refused "${REFUSED[@]}"
CL_STATUS=/tmp/cl_status.nosgid.$$ dialogue signon-refused "${REFUSED[@]}" :: hbstatus -v
rm -f /tmp/cl_status.nosgid.$$

$LAB kill "${PREFIX}h2" --kill
wait_for 30 settled dead all
record peer-dead

$LAB kill "${PREFIX}h1"
record stopped
