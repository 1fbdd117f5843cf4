#!/bin/sh
# Builds target/debian/heartbeat-rs_<version>_<arch>.deb with dpkg-deb only:
# `make install DESTDIR=<stage>`, then DEBIAN/ (control, conffiles,
# maintainer scripts). Environment: NO_BUILD=1 and BUILD_DIR=... are passed
# to make (install already-built binaries); OUT_DIR (default target/debian);
# DEB_COMPRESS (xz, gzip or none; default xz).
set -eu
cd "$(dirname "$0")/../.."
here=packaging/deb

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || { echo "build.sh: no version in Cargo.toml" >&2; exit 1; }
arch=$(dpkg --print-architecture)
out=${OUT_DIR:-target/debian}
case $out in /*) ;; *) out=$PWD/$out ;; esac
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"

make --no-print-directory install DESTDIR="$stage" PREFIX=/usr \
	NO_BUILD="${NO_BUILD:-}" BUILD_DIR="${BUILD_DIR:-target/release}" >/dev/null

# Debian ships stripped binaries (binutils' strip, when present).
if command -v strip >/dev/null 2>&1; then
	strip --strip-unneeded "$stage/usr/bin/cl_status" "$stage"/usr/libexec/heartbeat/*
fi

# The samples in /etc/ha.d are the admin's files, not the package's: the
# postinst copies them from the examples on a first install when absent.
rm -f "$stage/etc/ha.d/ha.cf" "$stage/etc/ha.d/haresources" "$stage/etc/ha.d/authkeys"
# drbd-utils owns /etc/ha.d/resource.d/drbddisk; ours stays in the examples.
rm -f "$stage/etc/ha.d/resource.d/drbddisk"

doc=$stage/usr/share/doc/heartbeat-rs
cat >"$doc/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: heartbeat-rs

Files: *
License: GPL-2.0-or-later
 On Debian systems the full text of the GNU General Public License version 2
 is in /usr/share/common-licenses/GPL-2.
COPY
chmod 644 "$doc/copyright"

# Every file under /etc is a conffile: dpkg keeps an admin's changes.
(cd "$stage" && find etc -type f | sort | sed 's|^|/|') >"$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	"$here/control" >"$stage/DEBIAN/control"
for s in postinst prerm postrm; do
	install -m 755 "$here/$s" "$stage/DEBIAN/$s"
done

deb=$out/heartbeat-rs_${version}_${arch}.deb
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-xz}" --build "$stage" "$deb" >/dev/null
echo "$deb"
