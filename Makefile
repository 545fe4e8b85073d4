# fota: one non-recursive GNU Makefile. `make help` lists the targets.
# Source lists are explicit (a new file is a visible diff); each directory's
# list lives in its module.mk, included below. Commands come from
# cmd/commands.h, the one list of commands.

VERSION     := 0.1.0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR     ?=
O           ?= build
PKG_CONFIG  ?= pkg-config
CLANG       ?= clang
CLANG_FORMAT ?= clang-format

PKGS        := yaml-0.1 libsocketcan json-c zlib liblz4 libcrypto libmosquitto libcurl
CFLAGS      ?= -O2 -g
FOTA_CFLAGS := -std=c11 -D_GNU_SOURCE -I. -Wall -Wextra -Wshadow -Wformat=2 \
               -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
               -DFOTA_VERSION='"$(VERSION)"' $(shell $(PKG_CONFIG) --cflags $(PKGS))
LIBS        := $(shell $(PKG_CONFIG) --libs $(PKGS)) -ldl
ifdef WERROR
FOTA_CFLAGS += -Werror
endif
ifdef SANITIZE
FOTA_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS     += -fsanitize=$(SANITIZE)
endif

ifneq ($(V),1)
Q         := @
QUIET_CC   = @echo '  CC      $@';
QUIET_AR   = @echo '  AR      $@';
QUIET_LINK = @echo '  LINK    $@';
endif

FUZZ_TARGETS :=
# fota serve judges no request's expiry while the wall clock reads earlier than
# this (fota-serve(1), SIGNED REQUESTS): the date of the commit built, else now.
BUILD_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
CMDS := $(shell sed -n 's/^FOTA_CMD(\([a-z0-9_]*\)).*/\1/p' cmd/commands.h)

include core/module.mk
include hex/module.mk
include uds/module.mk
include sdo/module.mk
include cmd/module.mk
include tests/module.mk

LIB_SRCS := $(CORE_SRCS) $(HEX_SRCS) $(UDS_SRCS) $(SDO_SRCS)
CMD_SRCS := cmd/main.c $(CMD_LIB_SRCS) $(CMDS:%=cmd/%.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(O)/%.o)

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:%.c=$(O)/%)
TSUP_OBJS  := $(TEST_SUPPORT_SRCS:%.c=$(O)/%.o)
SHELL_TESTS := $(sort $(wildcard tests/t/t[0-9]*.sh))
MANPAGES   := man/fota.1 $(CMDS:%=man/fota-%.1) man/fota.yaml.5 man/fota-mqtt.7

.PHONY: all check check-unit check-e2e check-vcan lint fuzz fuzz-run install uninstall \
	clean format format-check help bench-tools FORCE
.DELETE_ON_ERROR:

all: $(O)/fota $(O)/bin/fota $(O)/fota-serve.service

# Rebuild everything when the flags change (git's GIT-CFLAGS).
$(O)/CFLAGS: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(FOTA_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(LIBS)' >$@.new; \
	if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

$(O)/%.o: %.c $(O)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(FOTA_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/cmd/serve_files.o: FOTA_CFLAGS += -DFOTA_BUILD_EPOCH=$(BUILD_EPOCH)

$(O)/libfota.a: $(LIB_OBJS)
	$(QUIET_AR)rm -f $@ && $(AR) rcs $@ $^

$(O)/fota: $(CMD_OBJS) $(O)/libfota.a
	$(QUIET_LINK)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CMD_OBJS) $(O)/libfota.a $(LIBS)

# The systemd unit names the installed binary: regenerated when BINDIR changes.
$(O)/fota-serve.service: cmd/fota-serve.service.in FORCE
	@mkdir -p $(@D)
	$(Q)sed 's|@BINDIR@|$(BINDIR)|g' $< >$@.new && \
	if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

# The build tree gets the same symlinks as an install, so tests run fota-CMD.
$(O)/bin/fota: $(O)/fota cmd/commands.h
	@mkdir -p $(@D)
	$(Q)ln -sf ../fota $@
	$(Q)for c in $(CMDS); do ln -sf fota $(@D)/fota-$$c; done

$(O)/tests/unit/test_%: tests/unit/test_%.c $(TSUP_OBJS) $(O)/libfota.a $(O)/cmdlib.a $(O)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) $(FOTA_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< \
		$(TSUP_OBJS) $(O)/cmdlib.a $(O)/libfota.a $(LIBS)

# test_key dlopens a vendor-style seed/key library (lib:PATH) built from this fixture.
$(O)/tests/keylib.so: tests/fixtures/keylib.c $(O)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -std=c11 -Wall -Wextra -Wno-unused-parameter -O2 -shared -fPIC -o $@ $<
$(O)/tests/unit/test_key: $(O)/tests/keylib.so

# The test-only helper of the shell tests (send/dump frames on any bus); not installed.
$(O)/tests/fota-test: tests/helper/fota-test.c $(O)/libfota.a $(O)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) $(FOTA_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< \
		$(O)/libfota.a $(LIBS)

# Benchmark tools run by the bench/*.sh scripts (bench/README.md); not installed.
BENCH_TOOLS := $(O)/bench/sdo_latency
bench-tools: $(BENCH_TOOLS)
$(O)/bench/sdo_latency: bench/sdo_latency.c $(O)/libfota.a $(O)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) $(FOTA_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< \
		$(O)/libfota.a $(LIBS)

# Command-layer helpers that unit tests may link (option parser, table).
$(O)/cmdlib.a: $(filter-out $(O)/cmd/main.o,$(CMD_OBJS))
	$(QUIET_AR)rm -f $@ && $(AR) rcs $@ $^

# ---- tests ------------------------------------------------------------------
# `make check` builds a second tree with ASan+UBSan and runs everything there.
SAN_O ?= $(O)/san
# A test file that hangs is killed and counted as failed, not left to stall CI.
TEST_TIMEOUT ?= 600
# The VM stage (tests/vm/README.md): every test that uses the bus, and the
# VM's smoke test, on real SocketCAN (vcan0) against the plain build in $(O),
# the binary users install; at the same time, in a second VM, the tests that
# exist for SocketCAN (t0100, t5000) against the sanitized build. Under TCG an
# ASan process start costs about 0.5 s (0.1 s plain), which made the whole
# suite take over 10 minutes sanitized; plain it takes about 4.
VM_PLAIN_O ?= $(O)

# Build in parallel, then run the stages one after the other: timing tests
# (P2, STmin, the VM under TCG) must not share the two cores with each other.
check:
	$(Q)$(MAKE) --no-print-directory all $(O)/tests/fota-test
	$(Q)$(MAKE) --no-print-directory O=$(SAN_O) SANITIZE=address,undefined check-build
	$(Q)$(MAKE) --no-print-directory -j1 O=$(SAN_O) SANITIZE=address,undefined \
		VM_PLAIN_O=$(O) check-run
	-$(Q)$(MAKE) --no-print-directory lint
	$(Q)tests/summary.sh $(SAN_O)/results

check-unit:
	$(Q)$(MAKE) --no-print-directory O=$(SAN_O) SANITIZE=address,undefined check-run-unit
	$(Q)tests/summary.sh $(SAN_O)/results

check-e2e:
	$(Q)$(MAKE) --no-print-directory O=$(SAN_O) SANITIZE=address,undefined check-run-e2e
	$(Q)tests/summary.sh $(SAN_O)/results

# Real SocketCAN, on this kernel when it has vcan, else in QEMU VMs: the VM
# stage of make check on its own (FOTA_VCAN_TESTS=all: every shell test).
check-vcan:
	$(Q)$(MAKE) --no-print-directory all $(O)/tests/fota-test
	$(Q)$(MAKE) --no-print-directory O=$(SAN_O) SANITIZE=address,undefined \
		VM_PLAIN_O=$(O) check-run-vcan
	$(Q)tests/vm/check-vcan.sh --status --results $(SAN_O)/results $(O)

# Run from the sanitized tree's make (O=$(SAN_O)); VM_PLAIN_O is built already.
.PHONY: check-run-vcan
check-run-vcan: all $(O)/tests/fota-test
	$(Q)FOTA_VM_TIMEOUT="$(or $(FOTA_VM_TIMEOUT),1200)" tests/vm/check-vcan.sh \
		--asan $(O) --results $(O)/results $(VM_PLAIN_O); true

.PHONY: check-build check-run check-run-unit check-run-e2e check-run-fuzz
check-build: all $(UNIT_BINS) $(FUZZ_BINS) $(O)/tests/fota-test
check-run: check-run-unit check-run-e2e check-run-fuzz check-run-vcan

check-run-unit: $(UNIT_BINS)
	$(Q)mkdir -p $(O)/results && rm -f $(O)/results/unit-*.tap
	$(Q)for t in $(UNIT_BINS); do \
		n=$$(basename $$t); echo "  UNIT    $$n"; \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		timeout -k 10 $(TEST_TIMEOUT) $$t >$(O)/results/unit-$$n.tap \
			2>$(O)/results/unit-$$n.err; \
		rc=$$?; tests/tapcheck.sh $(O)/results/unit-$$n.tap $$rc || \
		{ sed 's/^/    /' $(O)/results/unit-$$n.tap | grep -v '^    ok' ; \
		  tail -30 $(O)/results/unit-$$n.err | sed 's/^/    /'; }; \
	done; true

# End-to-end: install into a scratch prefix, then run the shell tests there.
check-run-e2e: all $(O)/tests/fota-test
	$(Q)rm -rf $(O)/inst && $(MAKE) --no-print-directory install DESTDIR=$(abspath $(O)/inst) \
		PREFIX=/usr >/dev/null
	$(Q)mkdir -p $(O)/results && rm -f $(O)/results/e2e-*.tap
	$(Q)for t in $(SHELL_TESTS); do \
		n=$$(basename $$t .sh); echo "  E2E     $$n"; \
		FOTA_BUILD=$(abspath $(O)) FOTA_SRC=$(CURDIR) \
		FOTA_BINDIR=$(abspath $(O)/inst/usr/bin) \
		timeout -k 10 $(TEST_TIMEOUT) sh $$t >$(O)/results/e2e-$$n.tap \
			2>$(O)/results/e2e-$$n.err; \
		rc=$$?; tests/tapcheck.sh $(O)/results/e2e-$$n.tap $$rc || \
		{ grep -v '^ok' $(O)/results/e2e-$$n.tap | sed 's/^/    /'; \
		  tail -30 $(O)/results/e2e-$$n.err | sed 's/^/    /'; }; \
	done; true

# `make soak [N=1000] [SEED=1]`: the power-cut campaign of fota serve
# (tests/soak.py): N update cycles, each cut by SIGKILL at a random instant,
# with the promises of a restart checked; the seed reproduces a run.
.PHONY: soak
soak: N ?= 1000
soak: SEED ?= 1
soak: PYTHON ?= /usr/bin/python3
soak: all
	$(Q)$(PYTHON) tests/soak.py --fota $(O)/fota -n $(N) --seed $(SEED)

# ---- fuzzing (clang libFuzzer) -------------------------------------------------
FUZZ_O     := $(O)/fuzz
FUZZ_BINS  := $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz_%)
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := $(filter-out -Wformat=2,$(FOTA_CFLAGS)) -g -O1 $(FUZZ_SAN)
FUZZ_OBJS  := $(LIB_SRCS:%.c=$(FUZZ_O)/obj/%.o)
FUZZ_RUNS  ?= 20000

fuzz: $(FUZZ_BINS)

# The library is compiled once with coverage hooks (fuzzer-no-link) and
# shared by every target; only the target itself links libFuzzer's main.
$(FUZZ_O)/obj/%.o: %.c $(O)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_CC)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_O)/libfota.a: $(FUZZ_OBJS)
	$(QUIET_AR)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_O)/libfota.a
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_O)/libfota.a $(LIBS)

# A short, bounded run of each target over its seed corpus (part of make check).
check-run-fuzz: $(FUZZ_BINS)
	$(Q)mkdir -p $(O)/results && rm -f $(O)/results/fuzz-*.tap
	$(Q)for f in $(FUZZ_TARGETS); do \
		echo "  FUZZ    $$f"; mkdir -p $(FUZZ_O)/corpus-$$f; \
		if $(FUZZ_O)/fuzz_$$f -runs=$(FUZZ_RUNS) -max_len=4096 $(FUZZ_O)/corpus-$$f \
			tests/fuzz/corpus/$$f >$(O)/results/fuzz-$$f.err 2>&1; then \
			echo "ok 1 - fuzz $$f: $(FUZZ_RUNS) runs, no crash" >$(O)/results/fuzz-$$f.tap; \
		else echo "not ok 1 - fuzz $$f: see $(O)/results/fuzz-$$f.err" >$(O)/results/fuzz-$$f.tap; \
			tail -20 $(O)/results/fuzz-$$f.err | sed 's/^/    /'; fi; \
	done; true

# ---- docs ---------------------------------------------------------------------
# mandoc -Tlint: every page must be clean at WARNING level (style notes aside),
# and its quotes must render balanced and unnested (tests/manquotes.pl).
# Fails on any finding; make check records the result and goes on to its summary.
lint:
	$(Q)mkdir -p $(O)/results
	$(Q)tests/manlint.sh $(MANPAGES) >$(O)/results/lint.tap; rc=$$?; \
		grep -v -e '^ok' -e '^1\.\.' $(O)/results/lint.tap | sed 's/^/    /'; \
		cp $(O)/results/lint.tap $(SAN_O)/results/lint.tap 2>/dev/null; \
		exit $$rc

# ---- install ------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(O)/fota $(DESTDIR)$(BINDIR)/fota
	for c in $(CMDS); do ln -sf fota $(DESTDIR)$(BINDIR)/fota-$$c; done
	install -m 0644 man/fota.1 $(CMDS:%=man/fota-%.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/fota.yaml.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/fota-mqtt.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 completions/fota.bash $(DESTDIR)$(BASHCOMPDIR)/fota
	for c in $(CMDS); do ln -sf fota $(DESTDIR)$(BASHCOMPDIR)/fota-$$c; done
	install -m 0644 completions/_fota $(DESTDIR)$(ZSHCOMPDIR)/_fota
	install -m 0644 completions/fota.fish $(DESTDIR)$(FISHCOMPDIR)/fota.fish
	install -m 0644 $(O)/fota-serve.service $(DESTDIR)$(SYSTEMDUNITDIR)/fota-serve.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/fota $(CMDS:%=$(DESTDIR)$(BINDIR)/fota-%)
	rm -f $(DESTDIR)$(MANDIR)/man1/fota.1 $(CMDS:%=$(DESTDIR)$(MANDIR)/man1/fota-%.1)
	rm -f $(DESTDIR)$(MANDIR)/man5/fota.yaml.5 $(DESTDIR)$(MANDIR)/man7/fota-mqtt.7
	rm -f $(DESTDIR)$(BASHCOMPDIR)/fota $(CMDS:%=$(DESTDIR)$(BASHCOMPDIR)/fota-%)
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_fota $(DESTDIR)$(FISHCOMPDIR)/fota.fish
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/fota-serve.service

# ---- style ----------------------------------------------------------------------
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)
format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(O)

help:
	@echo 'fota $(VERSION): targets'
	@echo '  all           build $(O)/fota and the fota-CMD symlinks in $(O)/bin (default)'
	@echo '  demo          one whole update cycle on a virtual bus (examples/demo.sh)'
	@echo '  fleet-demo    a campaign over MQTT: broker, HTTPS firmware, 3 TCUs (examples/fleet-demo.sh)'
	@echo '  check         ASan+UBSan build, unit + end-to-end + fuzz smoke + man lint'
	@echo '  check-unit    unit tests only;  check-e2e: shell tests only'
	@echo '  check-vcan    the end-to-end suite on real SocketCAN (vcan0) in a QEMU VM'
	@echo '  soak          power-cut campaign of fota serve: N=1000 cycles cut by SIGKILL, SEED=1'
	@echo '  fuzz          build the libFuzzer targets in $(O)/fuzz (clang)'
	@echo '  lint          mandoc -Tlint and rendered quotes of the man pages'
	@echo '  bench-tools   build the benchmark tools in $(O)/bench (bench/README.md)'
	@echo '  install       install to $$(DESTDIR)$$(PREFIX) (default $(PREFIX))'
	@echo '  uninstall     remove what install put there'
	@echo '  format        clang-format -i;  format-check: fail on unformatted code'
	@echo '  clean         remove $(O)'
	@echo 'variables: O=DIR  PREFIX=  DESTDIR=  SYSTEMDUNITDIR=  V=1  WERROR=1  SANITIZE=address,undefined'

# `make demo`: one whole update cycle on a virtual bus (examples/demo.sh, the README's main job).
.PHONY: demo
demo: all
	$(Q)FOTA=$(O)/fota sh examples/demo.sh

# `make fleet-demo`: a campaign over MQTT for 3 TCUs (examples/fleet-demo.sh, the README's second example).
.PHONY: fleet-demo
fleet-demo: all
	$(Q)FOTA=$(O)/fota sh examples/fleet-demo.sh

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(TSUP_OBJS:.o=.d) $(UNIT_BINS:=.d) \
	$(FUZZ_OBJS:.o=.d) $(BENCH_TOOLS:=.d)
