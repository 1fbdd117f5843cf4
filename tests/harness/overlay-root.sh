#!/bin/bash
# overlay-root.sh - a throw-away /usr, /etc and /var for package tests (root).
# Run INSIDE a lab host (lab.sh exec HOST ...), whose mount namespace is private:
#
#   overlay-root.sh up UPPER HOSTDIR   overlayfs on /usr, /etc, /var (lower: the
#                                      machine's dirs, upper: UPPER/{usr,etc,var});
#                                      then the host's private /etc/ha.d,
#                                      /var/lib/heartbeat and /var/log on top again
#   overlay-root.sh run CMD...         CMD, only if /usr, /etc and /var ARE overlays
#                                      here (else exit 99): a failed `up` can never
#                                      let a package install reach the real system
#
# The mounts die with the host's mount namespace (lab.sh down).
set -euo pipefail

die() { echo "overlay-root: ERROR: $*" >&2; exit 99; }

# The mount ns must not be the machine's: PID 1's is the real one.
private_ns() { [ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ]; }

all_overlays() {
	local d
	for d in /usr /etc /var; do
		[ "$(findmnt -n -o FSTYPE --mountpoint "$d" | tail -n 1)" = overlay ] || return 1
	done
}

case "${1-}" in
up)
	[ $# -eq 3 ] || die "usage: up UPPER HOSTDIR"
	up=$2 hd=$3
	private_ns || die "refusing: not in a private mount namespace"
	all_overlays && die "overlays already up"
	for d in usr etc var; do
		mkdir -p "$up/$d/upper" "$up/$d/work"
		mount -t overlay "ovl-$d" -o "lowerdir=/$d,upperdir=$up/$d/upper,workdir=$up/$d/work" "/$d"
	done
	mount --bind "$hd/etc-ha.d" /etc/ha.d
	mount --bind "$hd/var-lib-hb" /var/lib/heartbeat
	mount --bind "$hd/log" /var/log
	all_overlays || die "overlays did not come up"
	;;
run)
	shift
	[ $# -ge 1 ] || die "usage: run CMD..."
	private_ns && all_overlays || die "refusing to run '$*': /usr, /etc, /var are not overlays here"
	exec "$@"
	;;
*) die "usage: overlay-root.sh up UPPER HOSTDIR | run CMD..." ;;
esac
