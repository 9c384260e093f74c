# leakwatch: make builds into $(OUTPUT); make V=1 shows the commands.
#   make                  the daemon, build/leakwatch, and the test fixtures
#   make test             every test: unit, unit under ASan+UBSan and valgrind,
#                         integration (root: loads the real BPF programs)
#   make deps             install the Debian packages the build and tests need
#   make vmlinux          regenerate vmlinux.h from /sys/kernel/btf/vmlinux
#   make install          the daemon, leakwatch.8 and leakwatch.service under
#                         $(DESTDIR)$(PREFIX) (PREFIX=/usr/local); make uninstall
OUTPUT ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

VERSION := 0.1.0
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
BASE_CFLAGS := $(CFLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE \
	-Iinclude -Iuser -I$(OUTPUT) -DLW_VERSION='"$(VERSION)"'
USER_CFLAGS := $(BASE_CFLAGS) -MMD -MP
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -MMD -MP -I. -Iinclude
LIBS := $(shell $(PKG_CONFIG) --libs libbpf json-c libdw libmicrohttpd 2>/dev/null || \
	echo -lbpf -ljson-c -ldw -lmicrohttpd) -lelf -lz -lm -lstdc++

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Pure logic: no libbpf, tested by cmocka without root.
CORE_SRCS := user/args.c user/cgroup.c user/duration.c user/tracker.c user/id_map.c \
	user/waiter_map.c user/leak_policy.c \
	user/wait_kind.c user/json_out.c user/text_out.c user/clock.c user/sites.c \
	user/trend.c user/metrics.c user/timeline.c user/kernel_version.c \
	user/buf.c user/utf8.c user/dump.c user/go_g.c user/go_names.c user/frame.c \
	user/py_linetable.c user/py_layout.c user/py_walk.c user/py_merge.c
# Native symbolization: the bounded cache and the DWARF inline chain (pure).
CORE_SRCS += user/inline_chain.c user/symcache.c
# JIT symbols: the perf map parser (pure) and its per-process files (/proc).
CORE_SRCS += user/perf_map.c
# Folded stacks (--folded): the lines (pure) and the file they replace.
CORE_SRCS += user/folded.c user/folded_file.c
# Lock owners: the wait-for graph of a process, glibc locks decoded (pure).
CORE_SRCS += user/wait_for.c user/lock_owner.c user/lock_wait.c
# Where a mapped file of another mount namespace is opened from (pure).
CORE_SRCS += user/map_file.c
# The rest of the daemon: BPF loading, the scan, the event loop, /proc.
DAEMON_SRCS := user/leakwatch.c user/loader.c user/scan.c user/event_loop.c user/go_watch.c \
	user/go_scan.c \
	user/procfs.c user/ksyms.c user/log.c user/unwind.c user/debuginfo.c user/symbolize.c user/http.c user/run_mode.c \
	user/py_frames.c
# The Go binary reader: pure parsing of untrusted files (libelf, libdw).
GO_BINARY_SRCS := user/go_buildinfo.c user/go_pclntab.c user/go_binary.c user/go_layout_table.c
UNIT_SRCS := $(CORE_SRCS) $(GO_BINARY_SRCS)
CORE_OBJS := $(CORE_SRCS:user/%.c=$(OUTPUT)/user/%.o) $(GO_BINARY_SRCS:user/%.c=$(OUTPUT)/user/%.o)
DAEMON_OBJS := $(DAEMON_SRCS:user/%.c=$(OUTPUT)/user/%.o)

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
# test_py_layout_3NN: the CPython layouts against CPython's own headers:
# Debian's 3.11 (libpython3.11-dev, make deps) always, pyenv's 3.12 and 3.13
# where present (3.13: linked with its libpython, whose _PyRuntime holds
# the debug offsets).
PY311_INCLUDE ?= /usr/include/python3.11
PY312_PREFIX ?= /root/.pyenv/versions/3.12.1
PY313_PREFIX ?= /root/.pyenv/versions/3.13.0
ifeq ($(wildcard $(PY312_PREFIX)/include/python3.12/internal/pycore_frame.h),)
UNIT_TESTS := $(filter-out test_py_layout_312,$(UNIT_TESTS))
endif
ifeq ($(wildcard $(PY313_PREFIX)/include/python3.13/internal/pycore_frame.h $(PY313_PREFIX)/lib/libpython3.13.so),)
UNIT_TESTS := $(filter-out test_py_layout_313,$(UNIT_TESTS))
endif
FIXTURES := $(patsubst tests/fixtures/%.c,%,$(wildcard tests/fixtures/*.c))
# The Go fixtures (GO_FIXTURES): every Go version here x plain, stripped, PIE,
# cgo.  Included before the rules that name them; its rules are not the
# default goal.
include tests/fixtures/go/fixtures.mk
.DEFAULT_GOAL := all

.PHONY: all clean test test-unit test-asan test-valgrind test-integration deps vmlinux
all: $(OUTPUT)/leakwatch $(FIXTURES:%=$(OUTPUT)/fixtures/%) $(FIXTURES:%=$(OUTPUT)/fixtures/%-fp) \
	$(GO_FIXTURES)

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/bpf $(OUTPUT)/fixtures $(OUTPUT)/unit $(OUTPUT)/asan:
	$(Q)mkdir -p $@

$(OUTPUT)/bpf/leakwatch.bpf.o: bpf/leakwatch.bpf.c vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/leakwatch.skel.h: $(OUTPUT)/bpf/leakwatch.bpf.o | $(OUTPUT)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name leakwatch_bpf > $@.tmp && mv $@.tmp $@

# Syscall names from the build host's kernel headers (linux-libc-dev).
UNISTD_H ?= /usr/include/x86_64-linux-gnu/asm/unistd_64.h
$(OUTPUT)/syscall_names.h: $(UNISTD_H) | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q){ echo 'static const char *const syscall_names[] = {'; \
	  sed -n 's/^#define __NR_\([a-z0-9_]*\)[[:space:]]\{1,\}\([0-9]\{1,\}\)$$/\t[\2] = "\1",/p' $<; \
	  echo '};'; } > $@.tmp && mv $@.tmp $@
$(OUTPUT)/user/wait_kind.o: $(OUTPUT)/syscall_names.h

# Only the loader includes the skeleton.
$(OUTPUT)/user/loader.o: $(OUTPUT)/leakwatch.skel.h

$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUTPUT)/leakwatch: $(CORE_OBJS) $(DAEMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# Fixtures: small programs that really block, leak, churn and spin, built
# twice: as distributions build (no frame pointers: unwinding needs CFI) and
# with frame pointers (as Go binaries always are).
FIXTURE_CFLAGS := -O2 -g -Wall -pthread -MMD -MP
$(OUTPUT)/fixtures/%-fp: tests/fixtures/%.c | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer $< -o $@

$(OUTPUT)/fixtures/%: tests/fixtures/%.c | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -fomit-frame-pointer $< -o $@

# query with its DWARF split off, as distributions ship it (objcopy
# --only-keep-debug, strip, a link to the debug file): query-debuglink finds
# query-debuglink.debug beside it through .gnu_debuglink; query-buildid
# has no link, only its build-id, and its debug file waits in split/ for the
# test to install under /usr/lib/debug/.build-id.  Each variant is compiled
# with its own name, so each has a build-id of its own.
QUERY_SPLIT := $(OUTPUT)/fixtures/query-debuglink $(OUTPUT)/fixtures/query-buildid
all: $(QUERY_SPLIT) $(OUTPUT)/fixtures/query-minidebug
$(QUERY_SPLIT): $(OUTPUT)/fixtures/query-%: tests/fixtures/query.c | $(OUTPUT)/fixtures
	$(call msg,CC-SPLIT,$@)
	$(Q)mkdir -p $(OUTPUT)/fixtures/split
	$(Q)$(CC) $(FIXTURE_CFLAGS) -fomit-frame-pointer -DQUERY_VARIANT='"$*"' $< -o $@.full
	$(Q)objcopy --only-keep-debug $@.full $(if $(filter debuglink,$*),$@.debug,$(OUTPUT)/fixtures/split/query-$*.debug)
	$(Q)strip --strip-unneeded $@.full -o $@.tmp
	$(Q)$(if $(filter debuglink,$*),objcopy --add-gnu-debuglink=$@.debug $@.tmp,:)
	$(Q)rm -f $@.full && mv $@.tmp $@

# query-minidebug: stripped of everything, with only a MiniDebugInfo
# (.gnu_debugdata: an xz ELF of the function symbols .dynsym lacks), as
# Fedora ships binaries: names, no file:line.
QUERY_SPLIT += $(OUTPUT)/fixtures/query-minidebug
$(OUTPUT)/fixtures/query-minidebug: tests/fixtures/query.c | $(OUTPUT)/fixtures
	$(call msg,CC-MINI,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -fomit-frame-pointer -DQUERY_VARIANT='"minidebug"' $< -o $@.full
	$(Q)nm -D --format=posix --defined-only $@.full | awk '{ print $$1 }' | sort > $@.dynsyms
	$(Q)nm --format=posix --defined-only $@.full | awk '$$2 ~ /^[Tt]$$/ { print $$1 }' | sort > $@.funcsyms
	$(Q)comm -13 $@.dynsyms $@.funcsyms > $@.keep
	$(Q)objcopy --only-keep-debug $@.full $@.mini
	$(Q)objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols=$@.keep $@.mini
	$(Q)rm -f $@.mini.xz && xz -q $@.mini
	$(Q)strip --strip-all $@.full -o $@.tmp
	$(Q)objcopy --add-section .gnu_debugdata=$@.mini.xz $@.tmp
	$(Q)rm -f $@.full $@.dynsyms $@.funcsyms $@.keep $@.mini.xz && mv $@.tmp $@

# Unit tests: cmocka, plain and under ASan+UBSan (valgrind runs the plain ones),
# each linked with the pure sources' objects: the daemon's own, and a second
# set built with the sanitizers (compiled once, not once per test).
UNIT_OBJS := $(UNIT_SRCS:user/%.c=$(OUTPUT)/user/%.o)
ASAN_OBJS := $(UNIT_SRCS:user/%.c=$(OUTPUT)/asan/obj/%.o)
ASAN_CFLAGS := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_DEPS := $(wildcard user/*.h include/*.h) $(OUTPUT)/syscall_names.h
UNIT_LIBS := -lcmocka -ljson-c -lelf -ldw -lm
# Kept between runs (make would delete them as intermediate files).
.SECONDARY: $(ASAN_OBJS)
$(OUTPUT)/asan/obj:
	$(Q)mkdir -p $@
$(OUTPUT)/asan/obj/wait_kind.o: $(OUTPUT)/syscall_names.h
$(OUTPUT)/asan/obj/%.o: user/%.c | $(OUTPUT)/asan/obj
	$(call msg,CC-ASAN,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(ASAN_CFLAGS) -c $< -o $@

$(OUTPUT)/unit/%: tests/unit/%.c $(UNIT_OBJS) $(UNIT_DEPS) | $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(UNIT_GO_CFLAGS) $< $(UNIT_OBJS) -o $@ $(UNIT_LIBS)

$(OUTPUT)/asan/%: tests/unit/%.c $(ASAN_OBJS) $(UNIT_DEPS) | $(OUTPUT)/asan
	$(call msg,CC-ASAN,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(ASAN_CFLAGS) $(UNIT_GO_CFLAGS) $< $(ASAN_OBJS) -o $@ \
		$(UNIT_LIBS)

# Go binaries test_go_binary reads (never runs): tests/unit/go built with
# each Go version here, plain, stripped, stripped PIE, with cgo (external
# linking) and cgo as PIE (Go 1.19's external linker merges .gopclntab into
# .data.rel.ro there).  A missing toolchain fails the build: it is not a skip.
GO119 ?= /usr/lib/go-1.19/bin/go
GO126 ?= /usr/local/go/bin/go
GO127 ?= GOTOOLCHAIN=go1.27.3 /usr/local/go/bin/go
GO_TEST_VERSIONS := 1.19 1.26 1.27
GO_TEST_BINS := $(foreach v,$(GO_TEST_VERSIONS),$(foreach k,plain strip pie cgo cgopie,$(OUTPUT)/gotest/$(v)-$(k)))
GO_ORACLES := $(GO_TEST_VERSIONS:%=$(OUTPUT)/gotest/%-oracle)
GO_TEST_SRCS := $(wildcard tests/unit/go/*.go tests/unit/go/go.mod)
go_for = env GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=$(2) \
	$(if $(filter 1.19,$(1)),$(GO119),$(if $(filter 1.26,$(1)),$(GO126),$(GO127)))
go_build = cd tests/unit/go && $(call go_for,$(1),$(3)) build -trimpath $(2) -o $(abspath $@) $(or $(4),.)
UNIT_GO_CFLAGS := -DLW_GO_TEST_DIR='"$(abspath $(OUTPUT))/gotest"'

$(OUTPUT)/gotest:
	$(Q)mkdir -p $@
$(OUTPUT)/gotest/%-plain: $(GO_TEST_SRCS) | $(OUTPUT)/gotest
	$(call msg,GO,$@)
	$(Q)$(call go_build,$*,,0)
$(OUTPUT)/gotest/%-strip: $(GO_TEST_SRCS) | $(OUTPUT)/gotest
	$(call msg,GO,$@)
	$(Q)$(call go_build,$*,-ldflags='-s -w',0)
$(OUTPUT)/gotest/%-pie: $(GO_TEST_SRCS) | $(OUTPUT)/gotest
	$(call msg,GO,$@)
	$(Q)$(call go_build,$*,-buildmode=pie -ldflags='-s -w',0)
$(OUTPUT)/gotest/%-cgo: $(GO_TEST_SRCS) | $(OUTPUT)/gotest
	$(call msg,GO,$@)
	$(Q)$(call go_build,$*,-ldflags=-linkmode=external,1)
$(OUTPUT)/gotest/%-cgopie: $(GO_TEST_SRCS) | $(OUTPUT)/gotest
	$(call msg,GO,$@)
	$(Q)$(call go_build,$*,-buildmode=pie -ldflags=-linkmode=external,1)
# runtime.CallersFrames as an oracle for go_pclntab_frames.
$(OUTPUT)/gotest/%-oracle: $(GO_TEST_SRCS) tests/unit/go/oracle/main.go | $(OUTPUT)/gotest
	$(call msg,GO,$@)
	$(Q)$(call go_build,$*,,0,./oracle)
$(OUTPUT)/unit/test_go_binary $(OUTPUT)/asan/test_go_binary: $(GO_TEST_BINS) $(GO_ORACLES)
$(OUTPUT)/unit/test_py_layout_311 $(OUTPUT)/asan/test_py_layout_311: \
	UNIT_GO_CFLAGS += -I$(PY311_INCLUDE)
$(OUTPUT)/unit/test_py_layout_312 $(OUTPUT)/asan/test_py_layout_312: \
	UNIT_GO_CFLAGS += -I$(PY312_PREFIX)/include/python3.12
$(OUTPUT)/unit/test_py_layout_313 $(OUTPUT)/asan/test_py_layout_313: \
	UNIT_GO_CFLAGS += -I$(PY313_PREFIX)/include/python3.13
$(OUTPUT)/unit/test_py_layout_313 $(OUTPUT)/asan/test_py_layout_313: \
	UNIT_LIBS += -L$(PY313_PREFIX)/lib -lpython3.13 -Wl,-rpath,$(PY313_PREFIX)/lib

test-unit: $(UNIT_TESTS:%=$(OUTPUT)/unit/%)
	$(Q)for t in $^; do echo "== $$t"; $$t || exit 1; done

test-asan: $(UNIT_TESTS:%=$(OUTPUT)/asan/%)
	$(Q)for t in $^; do echo "== $$t (ASan+UBSan)"; \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$$t || exit 1; done

test-valgrind: $(UNIT_TESTS:%=$(OUTPUT)/unit/%)
	$(Q)for t in $^; do echo "== $$t (valgrind)"; \
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		$$t || exit 1; done

test-integration: all
	$(Q)tests/integration/run.sh $(OUTPUT)

# Fuzzing (clang libFuzzer + ASan + UBSan) of the parsers of untrusted Go
# binaries; seeds: the sections (and whole files) of every test binary.
# make fuzz: FUZZ_SECONDS (120) each; make fuzz-ci: 10 s each.
FUZZERS := fuzz_go_buildinfo fuzz_go_pclntab fuzz_go_binary
FUZZ_SECONDS ?= 120
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-std=gnu11 -D_GNU_SOURCE -Iuser -Iinclude
FUZZ_DIR := $(OUTPUT)/fuzz
$(FUZZ_DIR):
	$(Q)mkdir -p $@
$(FUZZ_DIR)/%: tests/fuzz/%.c $(GO_BINARY_SRCS) $(wildcard user/go_*.h) | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(GO_BINARY_SRCS) -o $@ -lelf -ldw
$(FUZZ_DIR)/seeded: $(GO_TEST_BINS) | $(FUZZ_DIR)
	$(call msg,SEEDS,$(FUZZ_DIR)/corpus)
	$(Q)set -e; c=$(FUZZ_DIR)/corpus; mkdir -p $$c/fuzz_go_buildinfo $$c/fuzz_go_pclntab \
		$$c/fuzz_go_binary; for b in $(GO_TEST_BINS); do n=$$(basename $$b); \
		objcopy -O binary --only-section=.go.buildinfo $$b $$c/fuzz_go_buildinfo/$$n; \
		for s in .gopclntab .data.rel.ro.gopclntab; do \
		objcopy -O binary --only-section=$$s $$b $$c/fuzz_go_pclntab/$$n$$s; done; \
		cp $$b $$c/fuzz_go_binary/$$n; done; \
		find $$c -type f -empty -delete; touch $@
.PHONY: fuzz fuzz-ci
fuzz: $(FUZZERS:%=$(FUZZ_DIR)/%) $(FUZZ_DIR)/seeded
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_DIR) $(FUZZERS)
fuzz-ci: $(FUZZERS:%=$(FUZZ_DIR)/%) $(FUZZ_DIR)/seeded
	$(Q)tests/fuzz/run.sh 10 $(FUZZ_DIR) $(FUZZERS)

test: test-unit test-asan test-valgrind fuzz-ci test-go-scan test-py-stacks test-native-live \
	test-integration

# The Prometheus alerting rules (no root): promtool check and unit tests,
# their README runbooks, the metrics they read (tests/prometheus/run.sh).
.PHONY: test-rules
test-rules:
	$(Q)tests/prometheus/run.sh
test: test-rules

# Benchmarks (root, ~20 min): writes BENCHMARKS.md.
.PHONY: bench
bench: all
	$(Q)bench/run.sh $(OUTPUT)

deps:
	$(Q)scripts/install-deps.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

clean:
	$(Q)rm -rf $(OUTPUT)

# Install: sbin/leakwatch, the man page and the systemd unit, whose ExecStart
# is rewritten to the installed binary.
PREFIX ?= /usr/local
SBINDIR := $(PREFIX)/sbin
MAN8DIR := $(PREFIX)/share/man/man8
UNITDIR := $(PREFIX)/lib/systemd/system

.PHONY: install uninstall
install: $(OUTPUT)/leakwatch
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(OUTPUT)/leakwatch $(DESTDIR)$(SBINDIR)/leakwatch
	$(Q)install -D -m 0644 doc/leakwatch.8 $(DESTDIR)$(MAN8DIR)/leakwatch.8
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's|^ExecStart=/usr/local/sbin/leakwatch|ExecStart=$(SBINDIR)/leakwatch|' \
		contrib/leakwatch.service > $(DESTDIR)$(UNITDIR)/leakwatch.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/leakwatch.service

uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/leakwatch $(DESTDIR)$(MAN8DIR)/leakwatch.8 \
		$(DESTDIR)$(UNITDIR)/leakwatch.service

-include $(wildcard $(OUTPUT)/user/*.d $(OUTPUT)/asan/obj/*.d $(OUTPUT)/bpf/*.d \
	$(OUTPUT)/fixtures/*.d)

# The goroutine scan against real Go processes (root or the same uid):
# tests/unit/live_go_scan.c starts scanprobe of every Go version and variant.
include tests/fixtures/go/scanprobe/scanprobe.mk
GO_SCAN_SRCS := user/go_scan.c user/procfs.c
.PHONY: test-go-scan
$(OUTPUT)/unit/live_go_scan: tests/unit/live_go_scan.c $(UNIT_SRCS) $(UNIT_DEPS) $(GO_SCAN_SRCS) | $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $< $(UNIT_SRCS) $(GO_SCAN_SRCS) -o $@ $(UNIT_LIBS)
# test_go_scan_proc: the scan's reads on the test's own memory, with a test
# double of the Go binary reader (so without go_binary.c).
GO_SCAN_PROC_SRCS := $(CORE_SRCS) user/go_buildinfo.c $(GO_SCAN_SRCS)
$(OUTPUT)/unit/test_go_scan_proc: tests/unit/test_go_scan_proc.c $(UNIT_SRCS) $(UNIT_DEPS) $(GO_SCAN_SRCS) | $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $< $(GO_SCAN_PROC_SRCS) -o $@ $(UNIT_LIBS)
$(OUTPUT)/asan/test_go_scan_proc: tests/unit/test_go_scan_proc.c $(UNIT_SRCS) $(UNIT_DEPS) $(GO_SCAN_SRCS) | $(OUTPUT)/asan
	$(call msg,CC-ASAN,$@)
	$(Q)$(CC) $(BASE_CFLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer $< $(GO_SCAN_PROC_SRCS) -o $@ $(UNIT_LIBS)
test-go-scan: $(OUTPUT)/unit/live_go_scan $(SCANPROBES)
	$(Q)$< $(OUTPUT)/fixtures/go

# fuzz_go_g (make fuzz, fuzz-ci): the goroutine decoder, walker and maps
# parser, pure (user/go_g.c); seeds from live scanprobes of every Go version
# (tests/fuzz/corpus/fuzz_go_g, made by live_go_scan --seeds).
FUZZERS += fuzz_go_g
$(FUZZ_DIR)/fuzz_go_g: tests/fuzz/fuzz_go_g.c user/go_g.c $(wildcard user/go_*.h) | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< user/go_g.c -o $@
$(FUZZ_DIR)/seeded-go-g: $(wildcard tests/fuzz/corpus/fuzz_go_g/*) | $(FUZZ_DIR)
	$(Q)mkdir -p $(FUZZ_DIR)/corpus/fuzz_go_g
	$(Q)cp tests/fuzz/corpus/fuzz_go_g/* $(FUZZ_DIR)/corpus/fuzz_go_g/
	$(Q)touch $@
fuzz fuzz-ci: $(FUZZ_DIR)/fuzz_go_g $(FUZZ_DIR)/seeded-go-g

# Native frames against real processes (root): the query fixture plain, with
# its DWARF split off (debuglink, build-id), in a chroot; the cache shared.
# make bench-native: unwind_frames' cost, cold and cached.
NATIVE_LIVE_SRCS := user/unwind.c user/debuginfo.c user/symbolize.c user/procfs.c
NATIVE_FIXTURES := $(OUTPUT)/fixtures/query $(QUERY_SPLIT)
.PHONY: test-native-live bench-native
$(OUTPUT)/unit/live_native: tests/unit/live_native.c $(UNIT_SRCS) $(UNIT_DEPS) $(NATIVE_LIVE_SRCS) | $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $< $(UNIT_SRCS) $(NATIVE_LIVE_SRCS) -o $@ $(UNIT_LIBS) -lz -lstdc++
test-native-live: $(OUTPUT)/unit/live_native $(NATIVE_FIXTURES)
	$(Q)$< $(OUTPUT)
bench-native: $(OUTPUT)/unit/live_native $(NATIVE_FIXTURES)
	$(Q)$< --bench $(OUTPUT)

# The Python frame reader against live CPython (root or the same uid):
# tests/unit/live_py_stacks.c runs tests/fixtures/py/leak.py under Debian's
# python3.11 and each pyenv CPython here (3.10: must be "not supported").
PY_STACKS_PYTHONS ?= /usr/bin/python3.11 $(wildcard $(foreach v,3.10.13 3.11.7 3.12.1 3.13.0,\
	/root/.pyenv/versions/$(v)/bin/python3))
.PHONY: test-py-stacks
$(OUTPUT)/unit/live_py_stacks: tests/unit/live_py_stacks.c $(UNIT_SRCS) $(UNIT_DEPS) user/py_frames.c user/procfs.c | $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $< $(UNIT_SRCS) user/py_frames.c user/procfs.c -o $@ $(UNIT_LIBS)
test-py-stacks: $(OUTPUT)/unit/live_py_stacks
	$(Q)$< tests/fixtures/py/leak.py $(PY_STACKS_PYTHONS)

# fuzz_py_linetable, fuzz_py_frames (make fuzz, fuzz-ci): the co_linetable
# decoder and the CPython structure walker on memory images, pure; the
# frames seeds are test_py_walk's images (LW_PY_SEEDS=DIR), checked in.
PY_WALK_SRCS := user/py_walk.c user/py_layout.c user/py_linetable.c
FUZZERS += fuzz_py_linetable fuzz_py_frames
$(FUZZ_DIR)/fuzz_py_linetable: tests/fuzz/fuzz_py_linetable.c user/py_linetable.c user/py_linetable.h | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< user/py_linetable.c -o $@
$(FUZZ_DIR)/fuzz_py_frames: tests/fuzz/fuzz_py_frames.c $(PY_WALK_SRCS) $(wildcard user/py_*.h) user/frame.h | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(PY_WALK_SRCS) -o $@
$(FUZZ_DIR)/seeded-py: $(wildcard tests/fuzz/corpus/fuzz_py_frames/* tests/fuzz/corpus/fuzz_py_linetable/*) | $(FUZZ_DIR)
	$(Q)mkdir -p $(FUZZ_DIR)/corpus/fuzz_py_frames $(FUZZ_DIR)/corpus/fuzz_py_linetable
	$(Q)cp tests/fuzz/corpus/fuzz_py_frames/* $(FUZZ_DIR)/corpus/fuzz_py_frames/
	$(Q)cp tests/fuzz/corpus/fuzz_py_linetable/* $(FUZZ_DIR)/corpus/fuzz_py_linetable/
	$(Q)touch $@
fuzz fuzz-ci: $(FUZZ_DIR)/fuzz_py_linetable $(FUZZ_DIR)/fuzz_py_frames $(FUZZ_DIR)/seeded-py

# fuzz_perf_map (make fuzz, fuzz-ci): the perf map parser, pure
# (user/perf_map.c); seeds in tests/fuzz/corpus/fuzz_perf_map.
FUZZERS += fuzz_perf_map
$(FUZZ_DIR)/fuzz_perf_map: tests/fuzz/fuzz_perf_map.c user/perf_map.c user/id_map.c \
		user/perf_map.h | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< user/perf_map.c user/id_map.c -o $@
$(FUZZ_DIR)/seeded-perf-map: $(wildcard tests/fuzz/corpus/fuzz_perf_map/*) | $(FUZZ_DIR)
	$(Q)mkdir -p $(FUZZ_DIR)/corpus/fuzz_perf_map
	$(Q)cp tests/fuzz/corpus/fuzz_perf_map/* $(FUZZ_DIR)/corpus/fuzz_perf_map/
	$(Q)touch $@
fuzz fuzz-ci: $(FUZZ_DIR)/fuzz_perf_map $(FUZZ_DIR)/seeded-perf-map

# fuzz_symbolize (make fuzz, fuzz-ci): DWARF inline chains, line tables and
# symbols of an ELF file (user/symbolize.c over libdw); seeds: the C
# fixtures and the query fixtures' split debug files.
FUZZERS += fuzz_symbolize
SYMBOLIZE_FUZZ_SRCS := user/symbolize.c user/inline_chain.c user/frame.c
$(FUZZ_DIR)/fuzz_symbolize: tests/fuzz/fuzz_symbolize.c $(SYMBOLIZE_FUZZ_SRCS) user/symbolize.h \
		user/inline_chain.h user/frame.h | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(SYMBOLIZE_FUZZ_SRCS) -o $@ -ldw -lelf -lstdc++
$(FUZZ_DIR)/seeded-symbolize: $(OUTPUT)/fixtures/query $(OUTPUT)/fixtures/leaker $(QUERY_SPLIT) | $(FUZZ_DIR)
	$(Q)mkdir -p $(FUZZ_DIR)/corpus/fuzz_symbolize
	$(Q)cp $(OUTPUT)/fixtures/query $(OUTPUT)/fixtures/leaker $(OUTPUT)/fixtures/query-minidebug \
		$(OUTPUT)/fixtures/query-debuglink.debug $(FUZZ_DIR)/corpus/fuzz_symbolize/
	$(Q)touch $@
fuzz fuzz-ci: $(FUZZ_DIR)/fuzz_symbolize $(FUZZ_DIR)/seeded-symbolize
