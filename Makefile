# dsyncd -- plain Makefile with explicit object lists.
#
#   make            build dsyncd and the tools into build/
#   make deps       install the Debian packages the build and tests need
#   make run        run dsyncd on 127.0.0.1/::1 port 5354 with examples/dsyncd.conf
#   make test       deps, warning-free build, ASan+UBSan build, unit + integration tests
#   make bench      benchmarks (tests/bench), not part of the test suite
#   make bench-build  build the benchmark programs only (make test does, as a compile check)
#   make fuzz       libFuzzer targets, long runs (clang)
#   make fuzz-long  every fuzz target for 10 million executions, one after the
#                   other (RUNS=...; hours on an idle machine; tests/fuzz/README)
#   make mutate     the sanitized daemon under ten minutes of mutated traffic
#   make format-check
#   make install    dsyncd, dsyncctl, dsync-agent, man pages, web console, systemd unit and (when
#                   absent) the configuration; PREFIX, DESTDIR, SYSCONFDIR,
#                   LOCALSTATEDIR, UNITDIR as below.  make uninstall undoes it.

CC       ?= cc
BUILD    ?= build
PKGS      = ldns openssl libsodium sqlite3 libpq libconfig libmicrohttpd libunbound jansson libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
ifeq ($(filter deps clean format-check,$(MAKECMDGOALS)),)
$(warning pkg-config does not find $(PKGS); run 'make deps' first)
endif
endif

# Installation folders.  SYSCONFDIR, LOCALSTATEDIR and DATADIR are compiled
# in (the default configuration file, store.path and api.ui-directory): after
# changing them, rebuild from clean.
PREFIX        ?= /usr/local
BINDIR        ?= $(PREFIX)/bin
SBINDIR       ?= $(PREFIX)/sbin
MANDIR        ?= $(PREFIX)/share/man
DATADIR       ?= $(PREFIX)/share
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
UNITDIR       ?= $(PREFIX)/lib/systemd/system
INSTALL       ?= install
CPPFLAGS += -DDSYNC_SYSCONFDIR='"$(SYSCONFDIR)"' -DDSYNC_LOCALSTATEDIR='"$(LOCALSTATEDIR)"'
CPPFLAGS += -DDSYNC_DATADIR='"$(DATADIR)"'

WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -I. $(PKG_CFLAGS) -MMD -MP -pthread
LDLIBS  += $(PKG_LIBS) -pthread -lm

ifeq ($(SAN),1)
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

COMMON_SRC   = common/err.c common/log.c common/wire.c common/dname.c common/msg.c \
               common/rrtext.c common/deleg.c common/zonefile.c common/dnsq.c common/ratelimit.c common/vec.c \
               common/run.c common/tsig.c common/axfr.c common/file.c common/tokens.c common/cookie.c
SIG0_SRC     = sig0/sig0.c sig0/keyfile.c sig0/keygen.c
STORE_SRC    = store/store.c store/schema.c store/db.c store/db_sqlite.c store/db_pg.c \
               store/copy.c
POLICY_SRC   = policy/policy.c
KEYSTATE_SRC = keystate/keystate.c keystate/methods.c
CONFIG_SRC   = config/config.c config/preflight.c
BACKENDS_SRC = backends/backend.c backends/deleg_names.c backends/dnsupdate.c backends/exec.c \
               backends/null.c backends/powerdns.c backends/zonefile.c
KEYS_SRC     = keys/cache.c keys/trans.c keys/rkey.c keys/records.c keys/ops.c keys/bootstrap.c \
               keys/deleg_ops.c keys/name.c keys/watch.c
OUTBOX_SRC   = outbox/outbox.c outbox/check.c
RECEIVER_SRC = receiver/server.c receiver/pipeline.c receiver/replay.c receiver/respond.c \
               receiver/metrics.c receiver/tcpframe.c
DAEMON_SRC   = daemon/keycmd.c daemon/import.c daemon/process.c daemon/privdrop.c daemon/delegcmd.c \
               daemon/storecmd.c
API_SRC      = api/api.c api/tokens.c api/routes.c api/writes.c api/cfgjson.c api/health.c api/ui.c

LIB_SRC  = $(COMMON_SRC) $(SIG0_SRC) $(STORE_SRC) $(POLICY_SRC) $(KEYSTATE_SRC) $(CONFIG_SRC) \
           $(BACKENDS_SRC) $(KEYS_SRC) $(OUTBOX_SRC) $(RECEIVER_SRC) $(API_SRC) $(DAEMON_SRC)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      = $(BUILD)/libdsync.a

# dsync-agent's discovery and delegation diff (also linked into test_agent)
AGENT_LIB_SRC = tools/agent/discover.c tools/agent/diff.c
AGENT_LIB_OBJ = $(AGENT_LIB_SRC:%.c=$(BUILD)/%.o)
# dsync-agent itself: every file of tools/agent/ and what the tools share
AGENT_SRC     = tools/agent/main.c tools/agent/setup.c tools/agent/commands.c tools/agent/keys.c \
                tools/agent/output.c tools/agent/send.c $(AGENT_LIB_SRC) tools/cli.c
AGENT_OBJ     = $(AGENT_SRC:%.c=$(BUILD)/%.o)

# dsyncctl: every file of tools/dsyncctl/ and what the tools share
DSYNCCTL_SRC  = tools/dsyncctl/main.c tools/dsyncctl/settings.c tools/dsyncctl/http.c \
                tools/dsyncctl/output.c tools/dsyncctl/util.c tools/dsyncctl/children.c \
                tools/dsyncctl/keys.c tools/dsyncctl/audit.c tools/dsyncctl/outbox.c \
                tools/dsyncctl/server.c tools/cli.c
DSYNCCTL_OBJ  = $(DSYNCCTL_SRC:%.c=$(BUILD)/%.o)

PROGS    = $(BUILD)/dsyncd $(BUILD)/dsync-send $(BUILD)/bm-probe $(BUILD)/dsyncctl \
           $(BUILD)/dsync-agent
UNITS    = wire dname msg sig0 policy keystate store config backends metrics api agent ratelimit tsig cookie \
           pipeline keycache
UNIT_BIN = $(UNITS:%=$(BUILD)/test_%)

all: $(PROGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/dsyncd: $(BUILD)/daemon/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/dsync-send: $(BUILD)/tests/tools/dsync-send.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bm-probe: $(BUILD)/tests/tools/bm-probe.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/dsyncctl: $(DSYNCCTL_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/dsync-agent: $(AGENT_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_%: $(BUILD)/tests/unit/test_%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_agent: $(BUILD)/tests/unit/test_agent.o $(AGENT_LIB_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

units: $(UNIT_BIN)

# --- packages -----------------------------------------------------------
DEB_BUILD = build-essential pkg-config libldns-dev libssl-dev libsqlite3-dev \
            libconfig-dev libmicrohttpd-dev libunbound-dev libevent-dev nettle-dev \
            libjansson-dev libcurl4-openssl-dev libpq-dev libsodium-dev
DEB_TEST  = bind9-dnsutils bind9-utils knot knot-dnsutils ldnsutils sqlite3 \
            python3 iproute2 procps dns-root-data prometheus curl unbound \
            libxml2-utils bind9 nsd pdns-server pdns-backend-sqlite3 postgresql \
            debhelper dpkg-dev fakeroot lintian adduser systemd \
            chromium chromium-driver python3-selenium
deps:
	@missing=""; for p in $(DEB_BUILD) $(DEB_TEST); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

# --- running ------------------------------------------------------------
# (sub-makes: pkg-config must see the packages that deps just installed)
run: deps
	$(MAKE) all
	@mkdir -p var
	@[ -e var/api-tokens ] || { umask 077; for r in admin read; do \
	  printf '%s %s %s\n' $$r-token $$r "$$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')"; \
	  done >var/api-tokens; }
	@echo "web console: http://127.0.0.1:8053/ui/ (tokens in var/api-tokens)"
	$(BUILD)/dsyncd -c examples/dsyncd.conf

# --- installing ---------------------------------------------------------
# The configuration is installed only when there is none; the unit runs
# $(SBINDIR)/dsyncd with $(SYSCONFDIR)/dsyncd/dsyncd.conf as user dsyncd.
IPROGS = $(BUILD)/dsyncd $(BUILD)/dsyncctl $(BUILD)/dsync-agent
# the web console (api/ui.c serves exactly these)
UI_FILES = api/ui/index.html api/ui/app.js api/ui/app.css
install: $(IPROGS)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/dsyncd
	$(INSTALL) -m 0755 $(BUILD)/dsyncd $(DESTDIR)$(SBINDIR)/dsyncd
	$(INSTALL) -m 0755 $(BUILD)/dsyncctl $(BUILD)/dsync-agent $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 doc/dsyncctl.1 doc/dsync-agent.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 doc/dsyncd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 doc/dsyncd.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -d $(DESTDIR)$(DATADIR)/dsyncd/ui
	$(INSTALL) -m 0644 $(UI_FILES) $(DESTDIR)$(DATADIR)/dsyncd/ui/
	sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/etc/dsyncd/|$(SYSCONFDIR)/dsyncd/|g' \
	  dist/dsyncd.service >$(DESTDIR)$(UNITDIR)/dsyncd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/dsyncd.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/dsyncd/dsyncd.conf ]; then \
	  echo "kept $(DESTDIR)$(SYSCONFDIR)/dsyncd/dsyncd.conf"; else \
	  sed 's|/var/lib/dsyncd/|$(LOCALSTATEDIR)/lib/dsyncd/|g' dist/dsyncd.conf \
	    >$(DESTDIR)$(SYSCONFDIR)/dsyncd/dsyncd.conf && \
	  chmod 0644 $(DESTDIR)$(SYSCONFDIR)/dsyncd/dsyncd.conf && \
	  echo "installed $(DESTDIR)$(SYSCONFDIR)/dsyncd/dsyncd.conf"; fi

# the configuration goes only when it is the one installed (unchanged)
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/dsyncd $(DESTDIR)$(BINDIR)/dsyncctl $(DESTDIR)$(BINDIR)/dsync-agent \
	  $(DESTDIR)$(MANDIR)/man1/dsyncctl.1 $(DESTDIR)$(MANDIR)/man1/dsync-agent.1 \
	  $(DESTDIR)$(MANDIR)/man5/dsyncd.conf.5 $(DESTDIR)$(MANDIR)/man8/dsyncd.8 \
	  $(DESTDIR)$(UNITDIR)/dsyncd.service
	rm -f $(UI_FILES:api/ui/%=$(DESTDIR)$(DATADIR)/dsyncd/ui/%)
	rmdir $(DESTDIR)$(DATADIR)/dsyncd/ui $(DESTDIR)$(DATADIR)/dsyncd 2>/dev/null || true
	@c=$(DESTDIR)$(SYSCONFDIR)/dsyncd/dsyncd.conf; \
	if sed 's|/var/lib/dsyncd/|$(LOCALSTATEDIR)/lib/dsyncd/|g' dist/dsyncd.conf | cmp -s - $$c; then \
	  rm -f $$c; rmdir $(DESTDIR)$(SYSCONFDIR)/dsyncd 2>/dev/null || true; \
	elif [ -e $$c ]; then echo "kept $$c (changed since it was installed)"; fi

# --- tests --------------------------------------------------------------
# The whole suite: warning-free normal build, then everything again under
# ASan+UBSan, unit programs, then integration tests against the sanitized
# daemon.  Ends with "N passed, N failed".
test: deps
	$(MAKE) all bench-build
	$(MAKE) BUILD=build-san SAN=1 all units
	@tests/run.sh build-san

# --- tooling ------------------------------------------------------------
format-check:
	clang-format --dry-run --Werror $(LIB_SRC) daemon/main.c tools/*.c */*.h \
	  tools/agent/*.c tools/agent/*.h tools/dsyncctl/*.c tools/dsyncctl/*.h \
	  tests/unit/test_agent.c

# Benchmark programs (tests/bench): b2 (B2, in-process receive path) and the
# load generator dsync-send.  make test builds them so that they cannot rot.
BENCH_BIN = $(BUILD)/tests/bench/b2 $(BUILD)/dsync-send $(BUILD)/tests/bench/b7keys

$(BUILD)/tests/bench/b2: $(BUILD)/tests/bench/b2.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# B7's keys (tests/bench/million.sh)
$(BUILD)/tests/bench/b7keys: $(BUILD)/tests/bench/b7keys.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-build: $(BENCH_BIN)

bench: all bench-build
	tests/bench/run.sh $(BUILD)
	tests/bench/backlog.sh $(BUILD)
	BACKEND=dnsupdate tests/bench/backlog.sh $(BUILD)
	BACKEND=powerdns tests/bench/backlog.sh $(BUILD)
	tests/bench/million.sh $(BUILD)
	tests/bench/pgnodes.sh $(BUILD)

# B8 crash safety: 100 SIGKILLs of dsyncd under load (about two minutes)
soak: all bench-build
	KILLS=$${KILLS:-100} tests/bench/soak.sh $(BUILD)
.PHONY: soak

.PHONY: bench-build

fuzz:
	$(MAKE) -C tests/fuzz

fuzz-long:
	$(MAKE) -C tests/fuzz long

# the sanitized daemon under ten minutes of mutated traffic (make test: 24 s)
mutate: deps
	$(MAKE) BUILD=build-san SAN=1 all
	MUTATE_SECONDS=600 MUTATE_COUNT=1000000 BUILD=build-san bash tests/integration/19-mutate.sh

clean:
	rm -rf build build-san build-fuzz

.PHONY: all units deps run test format-check bench fuzz fuzz-long mutate clean install uninstall
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
