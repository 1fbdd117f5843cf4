#!/bin/bash
# lab.sh - network-namespace lab for heartbeat-rs integration tests (root only).
#
# A lab is a "switch" netns PREFIXsw holding bridge br0, plus hosts PREFIXh1..hN,
# each a netns with eth0 = $LAB_NET.I/24 (default 198.18.0.I) plugged into br0 and a
# private mount/UTS/IPC namespace (kept alive by a "holder" process) in which
# /etc/ha.d, /var/lib/heartbeat, /run, /var/log and /srv are private directories
# and the hostname is the node name. Every lab has its own L2 segment, so labs
# with distinct prefixes can reuse the same addresses and run in parallel.
#
#   lab.sh up PREFIX N [--serial A-B]...   build the lab (tears down a stale one first);
#                                          --serial: socat pty pair, /run/lab/ttyS<k> in hA and hB
#   lab.sh run HOST [--node NAME] [--conf DIR] [--env K=V]... -- CMD...
#                                          CMD in the background inside HOST; prints its pid;
#                                          stdout+stderr appended to HOST's /var/log/daemon.out
#   lab.sh real HOST CONFDIR NODE          start the real Heartbeat 3.0.6; prints its master pid
#   lab.sh exec HOST CMD...                CMD in the foreground inside HOST (exit status kept)
#   lab.sh pids HOST                       pids of HOST's processes (holder excluded)
#   lab.sh kill HOST [--kill|--crash]      SIGTERM its daemons (SIGKILL after $KILL_TIMEOUT s,
#                                          default 30); --kill: SIGKILL everything now;
#                                          --crash: --kill + "reboot" (wipe /run, extra addresses)
#   lab.sh cut|restore HOST                drop / forward every frame of HOST's switch port
#   lab.sh drop HOST PERCENT               drop PERCENT % of eth0 packets in each direction (0: off)
#   lab.sh block|unblock HOST ADDR         drop / pass every IPv4 packet between HOST and ADDR
#                                          (nftables inside HOST; other paths unaffected)
#   lab.sh dir HOST                        HOST's directory (etc-ha.d, run, log, srv, ...)
#   lab.sh down PREFIX [--purge]           SIGKILL every lab process (by pid: netns or mount ns
#                                          of the lab), delete the namespaces; keeps hosts/*/log
#                                          unless --purge. Safe to call twice.
#   lab.sh gc                              down --purge every lab whose owner process is gone;
#                                          remove lab logs older than a day
#
# HOST is PREFIXhI (or hI when LAB_PREFIX is set). State lives in $LAB_DIR
# (default /tmp/hbrs-lab-PREFIX). LAB_OWNER_PID (at `up`) names the process that
# owns the lab (for gc). LAB_NET: first three octets, inside 198.18.0.0/15.
set -euo pipefail

HB_BIN=/usr/libexec/heartbeat/heartbeat
IN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
NET=${LAB_NET:-198.18.0}
SELF=$(readlink -f "${BASH_SOURCE[0]}")
LOCK=/tmp/hbrs-lab.lock

die() { echo "lab: ERROR: $*" >&2; exit 1; }
say() { [ "${LAB_QUIET:-0}" = 1 ] || echo "lab: $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# --- naming --------------------------------------------------------------------------
set_prefix() {
	PREFIX=$1
	[[ "$PREFIX" =~ ^[a-z0-9][a-z0-9.-]{0,39}$ ]] || die "bad prefix '$PREFIX' ([a-z0-9.-], max 40)"
	LAB_DIR=${LAB_DIR:-/tmp/hbrs-lab-${PREFIX%-}}
	case "$LAB_DIR" in
	/tmp/?* | /var/tmp/?* | /work/?* | /root/?*) ;;
	*) die "LAB_DIR=$LAB_DIR: must be below /tmp, /var/tmp, /work or /root" ;;
	esac
	SW=${PREFIX}sw
}

# Parses HOST into PREFIX, IDX (I of hI), NS (netns), HD (host dir).
set_host() {
	local h=$1
	[[ "$h" =~ ^h[0-9]+$ ]] && [ -n "${LAB_PREFIX-}" ] && h=$LAB_PREFIX$h
	[[ "$h" =~ ^(.+)h([1-9][0-9]?)$ ]] || die "bad host '$1' (want PREFIXhI)"
	IDX=${BASH_REMATCH[2]} NS=$h
	set_prefix "${BASH_REMATCH[1]}"
	HD=$LAB_DIR/hosts/h$IDX
	[ -d "$HD" ] || die "host $h does not exist (no $HD)"
}

check_net() {
	[[ "$NET" =~ ^198\.1[89]\.([0-9]{1,3})$ ]] && [ "${BASH_REMATCH[1]}" -le 255 ] ||
		die "LAB_NET=$NET must be inside 198.18.0.0/15"
}

# --- processes -----------------------------------------------------------------------
# True if pid $1 runs (zombies count as dead: PID 1 may reap orphans late).
alive() {
	local st
	st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

ns_id() { echo "net:[$(stat -L -c %i "/run/netns/$1" 2>/dev/null)]"; }

# Live holder pid of the current host (must sit in the host's netns), or nothing.
holder() {
	local p
	p=$(cat "$HD/holder.pid" 2>/dev/null) || return 0
	alive "$p" && [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$(ns_id "$NS")" ] && echo "$p"
	return 0
}
need_holder() {
	HOLDER=$(holder)
	[ -n "$HOLDER" ] || die "host $NS is not up"
}

# Pids whose netns is in $1 or mount ns is in $2 (space-separated ns ids), minus
# $3. Never PID 1, this script or its parent (whose ns links may be unreadable).
pids_in() {
	local p
	for p in $(find /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
		awk -v nets="$1" -v mnts="$2" -v skip="${3-} 1 $$ $PPID" '
			BEGIN { split(nets, a, " "); for (i in a) want["net", a[i]] = 1
				split(mnts, a, " "); for (i in a) want["mnt", a[i]] = 1
				split(skip, a, " "); for (i in a) skipped[a[i]] = 1 }
			# $1 = /proc/PID/ns/KIND, $2 = KIND:[inode] (empty when unreadable)
			{ split($1, f, "/"); if (!(f[3] in skipped) && ((f[5], $2) in want)) print f[3] }' |
		sort -un); do
		alive "$p" && echo "$p"
	done
	return 0
}

host_pids() {
	local hp
	hp=$(holder)
	[ -n "$hp" ] || return 0
	pids_in "$(ns_id "$NS")" "$(readlink "/proc/$hp/ns/mnt")" "$hp"
}

# wait_until SECONDS CMD...: poll CMD every 50 ms.
wait_until() {
	local end=$(($(date +%s%N) + ${1%.*} * 1000000000)); shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.05
	done
}
none_alive() { local p; for p in "$@"; do alive "$p" && return 1; done; return 0; }

# SIGKILL the given pids and wait until they are gone.
kill_now() {
	[ $# -gt 0 ] || return 0
	kill -KILL "$@" 2>/dev/null || true
	wait_until 5 none_alive "$@" || say "WARNING: pids survived SIGKILL: $*"
}

# in_host CMD...: run CMD inside the current host with a clean environment.
in_host() {
	need_holder
	nsenter --target "$HOLDER" --net --mount --uts --ipc --wd=/ -- \
		env -i PATH="$IN_PATH" HOME=/root LANG=C TERM="${TERM:-dumb}" "${ENVS[@]+"${ENVS[@]}"}" "$@"
}

# --- up ------------------------------------------------------------------------------
make_host_dirs() {
	local d
	mkdir -p "$HD"/{etc-ha.d,var-lib-hb,log,srv}
	[ -d /etc/ha.d ] && cp -a /etc/ha.d/. "$HD/etc-ha.d/"
	rm -f "$HD/etc-ha.d"/{ha.cf,authkeys,haresources,nodeinfo}
	if [ -d /var/lib/heartbeat ]; then
		(cd /var/lib/heartbeat && find . -type d) | while read -r d; do
			mkdir -p "$HD/var-lib-hb/$d"
			chown --reference="/var/lib/heartbeat/$d" "$HD/var-lib-hb/$d"
			chmod --reference="/var/lib/heartbeat/$d" "$HD/var-lib-hb/$d"
		done
	fi
}

# The host's /run skeleton (what tmpfiles.d would make at boot).
make_run_dir() {
	local owner
	owner=$(id -u hacluster 2>/dev/null || echo 0):$(getent group haclient | cut -d: -f3)
	[ "${owner#*:}" != "" ] || owner=${owner%:}:0
	mkdir -p "$HD/run"/{heartbeat/ccm,heartbeat/crm,heartbeat/dopd,crm,lock,resource-agents,lab}
	chown "$owner" "$HD/run/heartbeat" "$HD/run/heartbeat"/{ccm,crm,dopd} "$HD/run/crm"
	chmod 750 "$HD/run/heartbeat" "$HD/run/heartbeat"/{ccm,crm,dopd} "$HD/run/crm"
	chmod 1777 "$HD/run/lock"
	chmod 1755 "$HD/run/resource-agents"
}

# Runs (as the holder) inside the new mount/UTS/IPC namespaces: private dirs, hostname.
cmd_holder() {
	local hd=$1 name=$2
	mount --bind "$hd/etc-ha.d" /etc/ha.d
	mount --bind "$hd/var-lib-hb" /var/lib/heartbeat
	mount --bind "$hd/log" /var/log
	mount --bind "$hd/srv" /srv
	mount --bind "$hd/run" /run # last: /var/run and /var/lock point into it
	hostname "$name"
	readlink /proc/$$/ns/mnt >"$hd/mntns"
	echo $$ >"$hd/holder.pid.tmp"
	mv "$hd/holder.pid.tmp" "$hd/holder.pid"
	exec -a "hbrs-lab-holder-$name" sleep infinity
}

cmd_up() {
	[ $# -ge 2 ] || usage
	set_prefix "$1"
	local n=$2 serials=() i s a b
	shift 2
	[[ "$n" =~ ^[1-9][0-9]?$ ]] || die "bad host count '$n' (1..99)"
	while [ $# -gt 0 ]; do
		case "$1" in
		--serial) [ $# -ge 2 ] || usage; serials+=("$2"); shift 2 ;;
		*) usage ;;
		esac
	done
	for s in "${serials[@]+"${serials[@]}"}"; do
		[[ "$s" =~ ^([0-9]+)-([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[2]}" -ge 1 ] &&
			[ "${BASH_REMATCH[1]}" -le "$n" ] && [ "${BASH_REMATCH[2]}" -le "$n" ] &&
			[ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ] || die "bad serial link '$s' for $n hosts"
	done
	check_net
	for tool in ip bridge nsenter unshare flock; do command -v $tool >/dev/null || die "$tool missing (run install-deps.sh)"; done
	mkdir -p /etc/ha.d /var/lib/heartbeat /srv # bind-mount targets

	(cmd_down "$PREFIX" --purge) >/dev/null
	mkdir -p "$LAB_DIR/hosts"
	{ echo "PREFIX=$PREFIX"; echo "N=$n"; echo "NET=$NET"; } >"$LAB_DIR/lab.env"
	if [ -n "${LAB_OWNER_PID-}" ]; then
		echo "$LAB_OWNER_PID $(sed 's/.*) //' "/proc/$LAB_OWNER_PID/stat" | awk '{print $20}')" >"$LAB_DIR/owner"
	fi

	flock "$LOCK" ip netns add "$SW"
	ip -n "$SW" link set lo up
	ip -n "$SW" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	ip -n "$SW" link set br0 up
	for ((i = 1; i <= n; i++)); do
		NS=${PREFIX}h$i HD=$LAB_DIR/hosts/h$i
		flock "$LOCK" ip netns add "$NS"
		ip -n "$NS" link set lo up
		ip netns exec "$NS" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n "$SW" link add "vh$i" type veth peer name eth0 netns "$NS"
		ip -n "$NS" link set eth0 address "$(printf '02:48:52:00:00:%02x' "$i")"
		ip -n "$SW" link set "vh$i" master br0 up
		ip -n "$NS" addr add "$NET.$i/24" brd "$NET.255" dev eth0
		ip -n "$NS" link set eth0 up
		make_host_dirs
		make_run_dir
		echo "eth0 $NET.$i/24" >"$HD/addrs"
		setsid ip netns exec "$NS" unshare --mount --uts --ipc --propagation private -- \
			/bin/bash "$SELF" _holder "$HD" "$NS" </dev/null >"$HD/holder.out" 2>&1 &
		wait_until 10 test -s "$HD/holder.pid" && [ -n "$(holder)" ] ||
			{ cat "$HD/holder.out" >&2; die "host $NS did not come up"; }
	done
	for s in "${serials[@]+"${serials[@]}"}"; do add_serial "${s%-*}" "${s#*-}"; done
	say "lab $PREFIX up: $n host(s), $LAB_DIR"
}

# Null-modem cable between hosts $1 and $2: a socat pty pair in the switch netns.
add_serial() {
	local a=$1 b=$2 sd=$LAB_DIR/serial/h$1-h$2 x k
	mkdir -p "$sd"
	setsid ip netns exec "$SW" socat -d -d PTY,raw,echo=0,link="$sd/h$a" PTY,raw,echo=0,link="$sd/h$b" \
		</dev/null >"$sd/socat.log" 2>&1 &
	wait_until 5 test -L "$sd/h$a" -a -L "$sd/h$b" || { cat "$sd/socat.log" >&2; die "socat pty pair failed"; }
	for x in "$a" "$b"; do
		k=0
		while [ -L "$LAB_DIR/hosts/h$x/run/lab/ttyS$k" ]; do k=$((k + 1)); done
		ln -s "$(readlink "$sd/h$x")" "$LAB_DIR/hosts/h$x/run/lab/ttyS$k"
		say "serial h$a-h$b: h$x sees /run/lab/ttyS$k"
	done
}

# --- down / gc -----------------------------------------------------------------------
cmd_down() {
	[ $# -ge 1 ] || usage
	set_prefix "$1"
	local purge=0 nss=() nets="" mnts="" ns m p pids hd
	[ "${2-}" = --purge ] && purge=1
	mapfile -t nss < <(ip netns list 2>/dev/null | awk '{print $1}' |
		grep -E "^${PREFIX//./\\.}(sw|h[0-9]+)\$" || true)
	for ns in "${nss[@]+"${nss[@]}"}"; do nets+=" $(ns_id "$ns")"; done
	# A recorded mount ns counts only while a process of the lab's netns is in it
	# (then it is alive, so its id cannot have been reused by someone else).
	if [ -n "$nets" ]; then
		for m in "$LAB_DIR"/hosts/h*/mntns; do
			[ -f "$m" ] || continue
			for p in $(pids_in "$nets" ""); do
				if [ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$(cat "$m")" ]; then
					mnts+=" $(cat "$m")"
					break
				fi
			done
		done
		for _ in 1 2 3; do # again: a process may have forked meanwhile
			mapfile -t pids < <(pids_in "$nets" "$mnts")
			[ ${#pids[@]} -gt 0 ] || break
			say "down $PREFIX: killing ${pids[*]}"
			kill_now "${pids[@]}"
		done
	fi
	for ns in "${nss[@]+"${nss[@]}"}"; do
		flock "$LOCK" ip netns del "$ns" || say "WARNING: could not delete netns $ns"
	done
	[ -d "$LAB_DIR" ] || return 0
	rm -rf "$LAB_DIR/serial" "$LAB_DIR/lab.env" "$LAB_DIR/owner"
	for hd in "$LAB_DIR"/hosts/h*; do
		[ -d "$hd" ] || continue
		if [ $purge = 1 ]; then rm -rf "$hd"; else
			find "$hd" -mindepth 1 -maxdepth 1 ! -name log -exec rm -rf {} +
		fi
	done
	rmdir "$LAB_DIR/hosts" "$LAB_DIR" 2>/dev/null || true
	return 0
}

cmd_gc() {
	local d pid start prefix
	for d in /tmp/hbrs-lab-*; do
		[ -f "$d/owner" ] && [ -f "$d/lab.env" ] || continue
		read -r pid start <"$d/owner" || continue
		[ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $20}')" = "$start" ] && continue
		prefix=$(sed -n 's/^PREFIX=//p' "$d/lab.env")
		[ -n "$prefix" ] || continue
		say "gc: owner $pid of $d is gone"
		(LAB_DIR=$d cmd_down "$prefix" --purge)
	done
	# logs kept by failed tests (`down` without --purge), after a day
	find /tmp -maxdepth 1 -type d -name 'hbrs-lab-*' -mtime +1 \
		-exec test ! -e '{}/lab.env' ';' -exec rm -rf '{}' + 2>/dev/null || true
}

# --- daemons -------------------------------------------------------------------------
# Copies CONFDIR into the host's /etc/ha.d: top-level files (authkeys mode 600,
# heartbeat refuses a readable one) and resource.d/* (755).
install_conf() {
	local conf=$1 f
	[ -d "$conf" ] || die "config dir $conf not found"
	rm -f "$HD/etc-ha.d"/{ha.cf,authkeys,haresources,nodeinfo}
	for f in "$conf"/*; do
		[ -f "$f" ] || continue
		case "${f##*/}" in
		authkeys) install -m 600 "$f" "$HD/etc-ha.d/authkeys" ;;
		*) install -m 644 "$f" "$HD/etc-ha.d/" ;;
		esac
	done
	if [ -d "$conf/resource.d" ]; then
		for f in "$conf"/resource.d/*; do [ -f "$f" ] && install -m 755 "$f" "$HD/etc-ha.d/resource.d/"; done
	fi
	return 0
}

cmd_run() {
	[ $# -ge 1 ] || usage
	set_host "$1"; shift
	local node='' conf='' pid
	ENVS=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--node) node=$2; shift 2 ;;
		--conf) conf=$2; shift 2 ;;
		--env) ENVS+=("$2"); shift 2 ;;
		--) shift; break ;;
		*) die "run: unknown option '$1' (missing --?)" ;;
		esac
	done
	[ $# -ge 1 ] || die "run: no command"
	need_holder
	[ -z "$conf" ] || install_conf "$conf"
	[ -z "$node" ] || in_host hostname "$node"
	# No job control here, so setsid and nsenter exec in place: $! is CMD's pid.
	setsid nsenter --target "$HOLDER" --net --mount --uts --ipc --wd=/ -- \
		env -i PATH="$IN_PATH" HOME=/root LANG=C "${ENVS[@]+"${ENVS[@]}"}" "$@" \
		</dev/null >>"$HD/log/daemon.out" 2>&1 &
	pid=$!
	echo "$pid" >>"$HD/run.pids"
	say "$NS: started pid $pid: $*"
	echo "$pid"
}

# Pid of the real heartbeat's master control process in the current host, or nothing.
real_pid() {
	local p
	p=$(tr -dc 0-9 2>/dev/null <"$HD/run/heartbeat.pid") || return 0
	[ -n "$p" ] && alive "$p" && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = heartbeat ] &&
		[ "$(readlink "/proc/$p/ns/net")" = "$(ns_id "$NS")" ] && echo "$p"
	return 0
}

cmd_real() {
	[ $# -eq 3 ] || usage
	set_host "$1"
	local conf=$2 node=$3 pid
	[ -x "$HB_BIN" ] || die "$HB_BIN missing (run tests/harness/install-deps.sh)"
	[ -f "$conf/ha.cf" ] && [ -f "$conf/authkeys" ] || die "$conf needs ha.cf and authkeys"
	need_holder
	[ -z "$(real_pid)" ] || die "heartbeat already runs in $NS (pid $(real_pid))"
	install_conf "$conf"
	in_host hostname "$node"
	rm -f "$HD/run/heartbeat.pid"
	# heartbeat daemonises: this returns once the daemon has forked away
	# shellcheck disable=SC2086 # HB_ARGS: several flags
	if ! in_host setsid "$HB_BIN" ${HB_ARGS-} </dev/null >>"$HD/log/heartbeat.console" 2>&1; then
		tail -n 20 "$HD/log/heartbeat.console" "$HD/log/ha-log" >&2 2>/dev/null || true
		die "heartbeat failed to start in $NS"
	fi
	has_real() { [ -n "$(real_pid)" ]; }
	wait_until 15 has_real || {
		tail -n 20 "$HD/log/heartbeat.console" "$HD/log/ha-log" >&2 2>/dev/null || true
		die "heartbeat wrote no pid file in $NS"
	}
	pid=$(real_pid)
	say "$NS: real heartbeat as node $node, master pid $pid"
	echo "$pid"
}

cmd_kill() {
	[ $# -ge 1 ] || usage
	set_host "$1"
	local mode=${2:---term} pids=() main=() p
	need_holder
	mapfile -t pids < <(host_pids)
	case "$mode" in
	--kill | --crash) kill_now "${pids[@]+"${pids[@]}"}" ;;
	--term)
		p=$(real_pid)
		[ -z "$p" ] || main+=("$p")
		for p in $(cat "$HD/run.pids" 2>/dev/null); do alive "$p" && main+=("$p"); done
		[ ${#main[@]} -gt 0 ] || main=("${pids[@]+"${pids[@]}"}")
		if [ ${#main[@]} -gt 0 ]; then
			kill -TERM "${main[@]}" 2>/dev/null || true
			wait_until "${KILL_TIMEOUT:-30}" none_alive "${main[@]}" ||
				say "WARNING: $NS did not stop in ${KILL_TIMEOUT:-30} s, sending SIGKILL"
		fi
		mapfile -t pids < <(host_pids)
		kill_now "${pids[@]+"${pids[@]}"}"
		;;
	*) die "kill: unknown option $mode" ;;
	esac
	rm -f "$HD/run.pids"
	[ "$mode" = --crash ] || return 0
	# "reboot": addresses the lab did not configure go, volatile /run is wiped
	ip -n "$NS" -o -4 addr show | awk '$2 != "lo" {print $2, $4}' | while read -r dev cidr; do
		grep -qx "$dev $cidr" "$HD/addrs" || ip -n "$NS" addr del "$cidr" dev "$dev" || true
	done
	find "$HD/run" -mindepth 1 -maxdepth 1 ! -name lab -exec rm -rf {} +
	rm -f "$HD/var-lib-hb/fifo"
	make_run_dir
	say "$NS: crashed and rebooted"
}

# --- faults --------------------------------------------------------------------------
cmd_port() {
	[ $# -eq 1 ] || usage
	set_host "$1"
	case "$OP" in
	cut) bridge -n "$SW" link set dev "vh$IDX" state 0 ;;
	restore) bridge -n "$SW" link set dev "vh$IDX" state 3 ;;
	esac
	say "$NS: switch port $OP"
}

cmd_drop() {
	[ $# -eq 2 ] || usage
	set_host "$1"
	local pct=$2
	[[ "$pct" =~ ^([0-9]|[1-9][0-9]|100)$ ]] || die "drop: PERCENT must be 0..100"
	ip netns exec "$NS" nft delete table inet hbrs_drop 2>/dev/null || true
	[ "$pct" = 0 ] && { say "$NS: no packet loss"; return 0; }
	local match="numgen random mod 100 < $pct"
	[ "$pct" = 100 ] && match=''
	ip netns exec "$NS" nft -f - <<-EOF
		table inet hbrs_drop {
			chain in { type filter hook input priority -100; policy accept; iifname "eth0" $match drop; }
			chain out { type filter hook output priority -100; policy accept; oifname "eth0" $match drop; }
		}
	EOF
	say "$NS: dropping $pct % of eth0 packets each way"
}

# One nftables table per blocked address, so blocks of several addresses stack.
cmd_block() {
	[ $# -eq 2 ] || usage
	set_host "$1"
	local addr=$2 table
	[[ "$addr" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "$OP: bad IPv4 address '$addr'"
	table=hbrs_block_${addr//./_}
	ip netns exec "$NS" nft delete table ip "$table" 2>/dev/null || true
	if [ "$OP" = block ]; then
		ip netns exec "$NS" nft -f - <<-EOF
			table ip $table {
				chain in { type filter hook input priority -100; policy accept; ip saddr $addr drop; }
				chain out { type filter hook output priority -100; policy accept; ip daddr $addr drop; }
			}
		EOF
	fi
	say "$NS: ${OP}ed $addr"
}

# --- main ----------------------------------------------------------------------------
[ $# -ge 1 ] || usage
OP=$1; shift
if [ "$OP" = _holder ]; then cmd_holder "$@"; fi
[ "$(id -u)" = 0 ] || die "must run as root"
case "$OP" in
up) cmd_up "$@" ;;
down) cmd_down "$@" ;;
gc) cmd_gc ;;
run) cmd_run "$@" ;;
real) cmd_real "$@" ;;
exec) [ $# -ge 2 ] || usage; set_host "$1"; shift; ENVS=(); in_host "$@" ;;
pids) [ $# -eq 1 ] || usage; set_host "$1"; host_pids ;;
kill) cmd_kill "$@" ;;
cut | restore) cmd_port "$@" ;;
drop) cmd_drop "$@" ;;
block | unblock) cmd_block "$@" ;;
dir) [ $# -eq 1 ] || usage; set_host "$1"; echo "$HD" ;;
-h | --help | help) usage ;;
*) die "unknown command '$OP'" ;;
esac
