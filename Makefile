# heartbeat-rs: build and install in the layout of Debian 12's `heartbeat`
# package, so scripts, init systems and admins find everything where
# Heartbeat 3.0.6 had it. See packaging/README.md.
#
#   make                          cargo build --release
#   make install [PREFIX=/usr] [DESTDIR=/stage]
#   make deb                      target/debian/heartbeat-rs_<version>_<arch>.deb
#
# Without DESTDIR and as root, `install` also creates the system user
# hacluster and group haclient (as Debian's postinst does) and gives
# /run/heartbeat and cl_status their owners. With DESTDIR that is left to
# whoever installs the tree (the .deb's postinst).
#
# NO_BUILD=1 installs the binaries already in BUILD_DIR without running cargo
# (the tests use it with the binaries cargo test built).

PREFIX ?= /usr
DESTDIR ?=
CARGO ?= cargo
BUILD_DIR ?= target/release
NO_BUILD ?=

BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/heartbeat-rs
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
# Heartbeat's paths that do not move with PREFIX: the daemon reads /etc/ha.d
# and /var/lib/heartbeat, init systems look in /etc/init.d and /lib/systemd.
SYSCONFDIR ?= /etc
HA_DIR ?= $(SYSCONFDIR)/ha.d
INITDIR ?= $(SYSCONFDIR)/init.d
UNITDIR ?= /lib/systemd/system
STATEDIR ?= /var/lib/heartbeat

HB_LIBEXEC = $(LIBEXECDIR)/heartbeat
# Heartbeat's HA_NOARCHBIN: its scripts run $HA_NOARCHBIN/hb_standby etc.
HB_NOARCH = $(DATADIR)/heartbeat
BINARIES = heartbeat cl_status hb_standby hb_takeover
SUBST = sed -e 's|@HB_LIBEXEC@|$(HB_LIBEXEC)|g' -e 's|@HB_NOARCH@|$(HB_NOARCH)|g' \
	-e 's|@HA_DIR@|$(HA_DIR)|g' -e 's|@STATEDIR@|$(STATEDIR)|g'

.PHONY: all build install install-users deb clean-deb

all: build

build:
	$(CARGO) build --release

install: $(if $(NO_BUILD),,build)
	@for b in $(BINARIES); do test -x "$(BUILD_DIR)/$$b" || \
		{ echo "make install: $(BUILD_DIR)/$$b missing (run make first)" >&2; exit 1; }; done
	install -d -m 755 $(DESTDIR)$(HB_LIBEXEC) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(HB_NOARCH) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(HA_DIR)/resource.d $(DESTDIR)$(HA_DIR)/rc.d $(DESTDIR)$(INITDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(STATEDIR)
	install -m 755 $(BUILD_DIR)/heartbeat $(DESTDIR)$(HB_LIBEXEC)/heartbeat
	install -m 755 $(BUILD_DIR)/hb_standby $(DESTDIR)$(HB_LIBEXEC)/hb_standby
	install -m 755 $(BUILD_DIR)/hb_takeover $(DESTDIR)$(HB_LIBEXEC)/hb_takeover
	install -m 755 $(BUILD_DIR)/cl_status $(DESTDIR)$(BINDIR)/cl_status
	ln -sfn $(HB_LIBEXEC)/heartbeat $(DESTDIR)$(SBINDIR)/heartbeat
	for b in hb_standby hb_takeover; do \
		ln -sfn $(HB_LIBEXEC)/$$b $(DESTDIR)$(HB_NOARCH)/$$b; \
		ln -sfn $(HB_LIBEXEC)/$$b $(DESTDIR)$(BINDIR)/$$b; done
	$(SUBST) packaging/heartbeat.init > $(DESTDIR)$(INITDIR)/heartbeat
	chmod 755 $(DESTDIR)$(INITDIR)/heartbeat
	$(SUBST) packaging/heartbeat.service > $(DESTDIR)$(UNITDIR)/heartbeat.service
	chmod 644 $(DESTDIR)$(UNITDIR)/heartbeat.service
	install -m 644 packaging/heartbeat.tmpfiles $(DESTDIR)$(TMPFILESDIR)/heartbeat.conf
	@# man pages, samples and resource scripts: whatever the tree holds
	for f in man/*.[1-8]; do [ -f "$$f" ] || continue; \
		s=$${f##*.}; install -d -m 755 $(DESTDIR)$(MANDIR)/man$$s; \
		gzip -9n < "$$f" > $(DESTDIR)$(MANDIR)/man$$s/$${f##*/}.gz; \
		chmod 644 $(DESTDIR)$(MANDIR)/man$$s/$${f##*/}.gz; done
	@# hto-mapfuncs is sourced, not run. drbddisk belongs to drbd-utils on
	@# Debian: ours goes to the examples, and to resource.d only when absent.
	for f in resource.d/*; do [ -f "$$f" ] || continue; n=$${f##*/}; \
		case $$n in *.md|README*) continue ;; hto-mapfuncs) m=644 ;; *) m=755 ;; esac; \
		if [ $$n = drbddisk ]; then \
			install -d -m 755 $(DESTDIR)$(DOCDIR)/examples/resource.d; \
			install -m 755 "$$f" $(DESTDIR)$(DOCDIR)/examples/resource.d/; \
			[ ! -e $(DESTDIR)$(HA_DIR)/resource.d/$$n ] || { echo "keeping $(DESTDIR)$(HA_DIR)/resource.d/$$n"; continue; }; \
		fi; \
		install -m $$m "$$f" $(DESTDIR)$(HA_DIR)/resource.d/; done
	for f in etc/ha.d/*; do [ -f "$$f" ] || continue; \
		install -m 644 "$$f" $(DESTDIR)$(DOCDIR)/examples/; done
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 644 packaging/README.md $(DESTDIR)$(DOCDIR)/README.packaging.md
	@# An admin's configuration is never overwritten; authkeys is secret.
	for f in etc/ha.d/*; do [ -f "$$f" ] || continue; n=$${f##*/}; \
		[ ! -e $(DESTDIR)$(HA_DIR)/$$n ] || { echo "keeping $(DESTDIR)$(HA_DIR)/$$n"; continue; }; \
		case $$n in authkeys) m=600 ;; *) m=644 ;; esac; \
		install -m $$m "$$f" $(DESTDIR)$(HA_DIR)/$$n; done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory install-users; fi

# The system account and the owners that need it (root, no DESTDIR).
install-users:
	getent group haclient >/dev/null || groupadd --system haclient
	getent passwd hacluster >/dev/null || useradd --system --gid haclient \
		--home-dir /usr/lib/heartbeat --no-create-home --shell /bin/false \
		--comment "Heartbeat System Account" hacluster
	install -d -m 750 -o hacluster -g haclient /run/heartbeat
	chgrp haclient $(BINDIR)/cl_status && chmod 2555 $(BINDIR)/cl_status

deb:
	packaging/deb/build.sh

clean-deb:
	rm -rf target/debian
