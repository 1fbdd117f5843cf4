#!/bin/bash
# install-deps.sh - install what the namespace test harness needs (Debian 12, root).
#
# Tools: iproute2 (ip, bridge), util-linux (nsenter, unshare), socat, nftables
# (packet loss), procps, psmisc, tcpdump (captures, optional), groff-base (man
# page lint, tests/man_pages.rs), and Debian's
# `heartbeat` package (the REAL Heartbeat 3.0.6, /usr/libexec/heartbeat/heartbeat)
# plus resource-agents; make (packaging tests: make install, the .deb build).
#
# The heartbeat package's postinst tries to start the service in the root
# namespace; a temporary /usr/sbin/policy-rc.d (exit 101) forbids that during the
# install (removed afterwards only if this script created it). Any heartbeat or
# ha_logd process that shows up in our namespace during the install anyway is
# killed by pid.
#
# Idempotent: when everything is present it only checks and exits (no apt).
set -euo pipefail

HB_BIN=/usr/libexec/heartbeat/heartbeat
say() { echo "install-deps: $*" >&2; }
die() { echo "install-deps: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

# "command or absolute path : package"
wanted=(
	# resource.d agent tests (tests/agents_ns.rs): IPaddr needs ifconfig,
	# Filesystem modprobe; apache2-bin without a service, curl for its page
	ifconfig:net-tools modprobe:kmod /usr/sbin/apache2:apache2-bin curl:curl
	ip:iproute2 bridge:iproute2 nsenter:util-linux unshare:util-linux
	socat:socat nft:nftables ps:procps fuser:psmisc tcpdump:tcpdump
	flock:util-linux "$HB_BIN":heartbeat /usr/bin/cl_status:heartbeat
	/usr/lib/ocf/resource.d/heartbeat/IPaddr2:resource-agents /usr/sbin/stonith:cluster-glue
	groff:groff-base make:make gzip:gzip dpkg-deb:dpkg findmnt:util-linux sha256sum:coreutils
)
wanted+=(stress-ng:stress-ng) # bench/run: CPU load for the false-failover measurement
missing=()
for pair in "${wanted[@]}"; do
	what=${pair%%:*} pkg=${pair##*:}
	if [ "${what#/}" != "$what" ]; then
		[ -x "$what" ] && continue
	else
		command -v "$what" >/dev/null 2>&1 && continue
	fi
	case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
done
if [ ${#missing[@]} -eq 0 ]; then
	say "all present"
	exit 0
fi

# Processes running the heartbeat binaries in OUR network namespace (the root one).
my_net=$(readlink /proc/$$/ns/net)
hb_pids() {
	local d p exe
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		exe=$(readlink "$d/exe" 2>/dev/null) || continue
		case "$exe" in
		"$HB_BIN"* | /usr/lib/heartbeat/ha_logd*) ;;
		*) continue ;;
		esac
		[ "$(readlink "$d/ns/net" 2>/dev/null)" = "$my_net" ] && echo "$p"
	done
	return 0
}
before=" $(hb_pids | tr '\n' ' ') "

made_policy=0
cleanup() { [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d; return 0; }
trap cleanup EXIT
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\n# temporary (heartbeat-rs install-deps.sh): no service may start\nexit 101\n' \
		>/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o DPkg::Lock::Timeout=600)
say "apt-get update"
for try in 1 2 3; do
	apt-get -q -o DPkg::Lock::Timeout=600 update >&2 && break
	[ "$try" = 3 ] && die "apt-get update failed"
	sleep 5
done
say "installing: ${missing[*]}"
apt-get install "${apt_opts[@]}" --no-install-recommends "${missing[@]}" >&2 ||
	die "apt-get install ${missing[*]} failed"

# Nothing of heartbeat may run in the root namespace: kill what the install started.
started=()
for p in $(hb_pids); do
	case "$before" in *" $p "*) ;; *) started+=("$p") ;; esac
done
if [ ${#started[@]} -gt 0 ]; then
	say "WARNING: the install started heartbeat processes in the root namespace: ${started[*]}; killing them"
	kill -KILL "${started[@]}" 2>/dev/null || true
fi

[ -x "$HB_BIN" ] || die "$HB_BIN missing after the install"
say "done; real heartbeat is $HB_BIN"
