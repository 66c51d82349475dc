# dmabuf-rw: kernel base -> series -> kernel -> guest image -> tests.
# Each target runs the script named in it; see README.md.  Output: build/.

G := build/guest
GUEST_CFLAGS := -O2 -g -Wall -Wextra -MMD -MP -Iinclude -Ilib -Itests/lib
GUEST_LIBS := -l:liburing.a
# Every tests/<area>/<name>.c is a guest program /tests/<area>/<name>
# (but tests/host: host-side tests, make check-host),
# linked with the test helpers and the user-space library (lib/).
TEST_BINS := $(patsubst tests/%.c,$(G)/tests/%,$(filter-out tests/lib/% tests/host/%,$(wildcard tests/*/*.c)))
# fio's dmabuf engine and its job file join the image whenever fio is
# installed (make deps), so tool/fio-engine runs in make check; the
# benchmark's guest scripts always do.
FIO_ENGINE := build/fio/dmabuf-engine.so
GUEST_BINS := $(G)/dmabuf-rw-demo $(G)/dmabuf-io bench/guest-bench.sh bench/guest-bench-cpu.sh \
	bench/guest-bench-lib.sh \
	$(TEST_BINS) \
	$(if $(shell command -v fio),$(FIO_ENGINE) fio/dmabuf.fio)
LIB_OBJS := $(patsubst %.c,$(G)/obj/%.o,$(wildcard lib/*.c))
GUEST_OBJS := $(G)/obj/tests/lib/test.o $(LIB_OBJS)
# The dmabuf-io tool: tools/dmabuf-io/*.c, /bin/dmabuf-io in the guest.
TOOL_OBJS := $(patsubst %.c,$(G)/obj/%.o,$(wildcard tools/dmabuf-io/*.c))

.PHONY: all deps base tree export kernel kernel-debug kernel-unpatched test-modules series-check \
	guest run check check-debug check-host fio-engine bench clean distclean \
	tools install

all: kernel test-modules guest

deps:
	@scripts/install-deps.sh
base: deps
	@kernel/fetch-base.sh
tree: deps
	@kernel/prepare-tree.sh
export:
	@kernel/export-series.sh
kernel: tree
	@kernel/build-kernel.sh
kernel-debug: tree
	@CONFIG=debug kernel/build-kernel.sh
# the base source without the series, same configuration (make bench-cpu UNPATCHED=1)
kernel-unpatched: tree
	@CONFIG=unpatched kernel/build-kernel.sh
# tests/modules/*/ against the kernel just built (CONFIG=debug: the debug one)
test-modules:
	@guest/mkmodules.sh
series-check: deps
	@kernel/check-series.sh

guest: deps $(G)/initramfs.cpio.gz $(G)/host/bar-agent

$(G)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<
$(G)/tests/%: tests/%.c $(GUEST_OBJS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -MF $@.d -o $@ $< $(GUEST_OBJS) $(GUEST_LIBS)
$(G)/dmabuf-rw-demo: guest/demo.c $(GUEST_OBJS)
	$(CC) $(GUEST_CFLAGS) -MF $@.d -o $@ $< $(GUEST_OBJS) $(GUEST_LIBS)
$(G)/dmabuf-io: $(TOOL_OBJS) $(LIB_OBJS)
	$(CC) $(GUEST_CFLAGS) -o $@ $^ $(GUEST_LIBS) -lpthread -lm
# The host side of the device-memory bed (vm/run-vm.sh --p2p).
$(G)/host/bar-agent: vm/bar-agent.c $(G)/obj/tests/lib/test.o
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -MF $@.d -o $@ $< $(G)/obj/tests/lib/test.o $(GUEST_LIBS)
$(G)/initramfs.cpio.gz: guest/mkinitramfs.sh guest/init $(GUEST_BINS) $(G)/programs
	@guest/mkinitramfs.sh $@ $(GUEST_BINS)
# The list of programs, rewritten only when a test is added or removed.
$(G)/programs: FORCE
	@mkdir -p $(@D)
	@echo $(GUEST_BINS) | cmp -s - $@ || echo $(GUEST_BINS) > $@
FORCE:
-include $(shell find $(G) -name '*.d' 2>/dev/null)

run: kernel test-modules guest
	@vm/run-vm.sh --name run --iommu strict --drive file:64M --drive null:8G --timeout 300 \
		--append dmabuf_rw.mode=run

check:
	@tests/run-check.sh
# fio/dmabuf-engine.c against the installed fio's headers (Debian source,
# or FIO_SRC=/path/to/your/fio); no root, QEMU or kernel tree needed
fio-engine:
	@fio/build-engine.sh
$(FIO_ENGINE): fio/dmabuf-engine.c fio/build-engine.sh $(wildcard lib/*.c lib/*.h)
	@fio/build-engine.sh
# Boot once per IOMMU mode on a null-co drive, measure, tabulate: build/bench/
# (NO_BUILD=1: the kernel and test modules already built)
bench: $(if $(filter 1,$(NO_BUILD)),,kernel test-modules) fio-engine
	@$(MAKE) -s guest
	@bench/run-bench.sh
# Guest CPU time per I/O under QEMU -icount, once per IOMMU mode: build/bench/cpu.csv
# (NO_BUILD=1: the kernel and test modules already built; UNPATCHED=1: also
# the kernel without the series, plain and fixed)
.PHONY: bench-cpu
bench-cpu: $(if $(filter 1,$(NO_BUILD)),,kernel test-modules $(if $(filter 1,$(UNPATCHED)),kernel-unpatched))
	@$(MAKE) -s guest
	@bench/run-bench-cpu.sh
# The debug kernel (KASAN, lockdep, kmemleak, DMA API debugging) runs the
# suite with the IOMMU in strict mode unless MODES says otherwise.
check-debug:
	@CONFIG=debug MODES="$${MODES:-strict}" tests/run-check.sh

# On the host, without the kernel, QEMU or root: the library (static and
# shared), its pkg-config file and dmabuf-io, in build/host.  install
# copies them with the headers and man pages to DESTDIR/PREFIX.
H := build/host
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BINDIR ?= $(PREFIX)/bin
LIB_VERSION = $(shell sed -n 's/^\#define DMABUF_RW_VERSION_\(MAJOR\|MINOR\)[[:space:]]*//p' \
	lib/dmabuf-rw.h | paste -sd.)
LIB_MAJOR = $(firstword $(subst ., ,$(LIB_VERSION)))
HOST_CFLAGS := -O2 -g -Wall -Wextra -MMD -MP -Iinclude -Ilib
HOST_LIB_OBJS := $(patsubst %.c,$(H)/obj/%.o,$(wildcard lib/*.c))
HOST_TOOL_OBJS := $(patsubst %.c,$(H)/obj/%.o,$(wildcard tools/dmabuf-io/*.c))
TOOLS := $(H)/libdmabuf-rw.a $(H)/libdmabuf-rw.so $(H)/dmabuf-io

tools: $(TOOLS)
$(H)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -fPIC $(CFLAGS) -c -o $@ $<
$(H)/libdmabuf-rw.a: $(HOST_LIB_OBJS)
	$(AR) rcs $@ $^
$(H)/libdmabuf-rw.so: $(HOST_LIB_OBJS) lib/dmabuf-rw.h
	$(CC) -shared -Wl,-soname,libdmabuf-rw.so.$(LIB_MAJOR) $(LDFLAGS) \
		-o $@.$(LIB_VERSION) $(HOST_LIB_OBJS) -luring
	ln -sf libdmabuf-rw.so.$(LIB_VERSION) $@.$(LIB_MAJOR)
	ln -sf libdmabuf-rw.so.$(LIB_VERSION) $@
$(H)/dmabuf-io: $(HOST_TOOL_OBJS) $(H)/libdmabuf-rw.a
	$(CC) $(LDFLAGS) -o $@ $^ -luring -lpthread -lm
install: tools
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/dmabuf-rw \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 644 $(H)/libdmabuf-rw.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(H)/libdmabuf-rw.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libdmabuf-rw.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/libdmabuf-rw.so.$(LIB_MAJOR)
	ln -sf libdmabuf-rw.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/libdmabuf-rw.so
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(LIB_VERSION)|' lib/dmabuf-rw.pc.in \
		> $(DESTDIR)$(LIBDIR)/pkgconfig/dmabuf-rw.pc
	install -m 644 lib/dmabuf-rw.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 include/dmabuf-rw/*.h $(DESTDIR)$(INCLUDEDIR)/dmabuf-rw/
	install -m 755 $(H)/dmabuf-io $(DESTDIR)$(BINDIR)/
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/*.3 $(DESTDIR)$(MANDIR)/man3/
-include $(shell find $(H) -name '*.d' 2>/dev/null)
# Host-side tests (tests/host/run.sh: TAP, no root, no VM); make check runs
# them before any boot.
check-host:
	@tests/host/run.sh

# clean: guest programs, image, VM disks, logs.  distclean: all of build/
# (including the kernel tree: export your commits first).
clean:
	rm -rf $(G) $(H) build/vm build/logs build/kbuild*/test-modules* build/bench
distclean:
	rm -rf build
