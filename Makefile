# moat — build, test and run. `make test` is what CI runs (through .ci/run).

CC      ?= gcc
PREFIX  ?= /usr/local
# CRYPTO=default: each algorithm from the fastest back end (mbedTLS, nettle, libgcrypt,
# libsodium; tls/crypto/provider.c). CRYPTO=mbedtls: the mbedTLS-only engine, built
# and linked without the other libraries, in its own build directory.
CRYPTO  ?= default
ifeq ($(CRYPTO),mbedtls)
BUILD   ?= build/mbedtls-only
else ifeq ($(CRYPTO),default)
BUILD   ?= build
else
$(error CRYPTO must be default or mbedtls, not "$(CRYPTO)")
endif

DEB_PACKAGES := build-essential pkg-config libuv1-dev libmbedtls-dev libyaml-dev check \
                nettle-dev libgcrypt20-dev libsodium-dev \
                libsubunit-dev libsystemd-dev openssl gnutls-bin curl valgrind python3 \
                iproute2 procps systemd ca-certificates
# Only `make bench` needs these: the peers it measures moat against (issue 7).
BENCH_PACKAGES := libssl-dev hitch haproxy nginx libnginx-mod-stream stunnel4 gnuplot-nox

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla
FAST_CRYPTO_SRC := tls/crypto/nettle.c tls/crypto/gcrypt.c tls/crypto/sodium.c
ifeq ($(CRYPTO),mbedtls)
CRYPTO_DEFS :=
else
CRYPTO_DEFS := -DMOAT_CRYPTO_FAST
endif
STD      := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(CRYPTO_DEFS)
CFLAGS   ?= -O2 -g
ALL_CFLAGS := $(STD) $(WARN) $(CFLAGS) -fno-strict-aliasing -I.
SAN_CFLAGS := $(STD) $(WARN) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined -I.
# libmbedtls (its TLS layer) is never linked: only the primitives and X.509.
CRYPTO_LIBS := -lmbedx509 -lmbedcrypto
ifneq ($(CRYPTO),mbedtls)
CRYPTO_LIBS += -lhogweed -lnettle -lgmp -lgcrypt -lsodium
endif
UV_LIBS     := $(shell pkg-config --libs libuv 2>/dev/null || echo -luv)
YAML_LIBS   := $(shell pkg-config --libs yaml-0.1 2>/dev/null || echo -lyaml)
SD_LIBS     := $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)
CHECK_LIBS  := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)
LIBS        := $(CRYPTO_LIBS) -lpthread

ENGINE_SRC := $(sort $(wildcard tls/*.c tls/*/*.c))
ifeq ($(CRYPTO),mbedtls)
ENGINE_SRC := $(filter-out $(FAST_CRYPTO_SRC),$(ENGINE_SRC))
endif
ENGINE_HDR := $(sort $(wildcard tls/*.h tls/*/*.h))
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/rel/%.o)
ENGINE_SAN := $(ENGINE_SRC:%.c=$(BUILD)/san/%.o)
# The daemon's layers above the engine: config/ and proxy/.
APP_SRC    := $(sort $(wildcard config/*.c proxy/*.c))
APP_HDR    := $(sort $(wildcard config/*.h proxy/*.h src/*.h))
APP_OBJ    := $(APP_SRC:%.c=$(BUILD)/rel/%.o)
APP_SAN    := $(APP_SRC:%.c=$(BUILD)/san/%.o)
APP_LIBS   := $(UV_LIBS) $(YAML_LIBS) $(SD_LIBS)
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
TESTLIB_HDR := $(sort $(wildcard tests/lib/*.h))
TESTLIB_SAN := $(TESTLIB_SRC:%.c=$(BUILD)/san/%.o)
TESTLIB_REL := $(TESTLIB_SRC:%.c=$(BUILD)/rel/%.o)
UNIT_SRC   := $(sort $(wildcard tests/tls/test_*.c tests/config/test_*.c tests/proxy/test_*.c))
UNIT_BIN   := $(addprefix $(BUILD)/tests/,$(notdir $(UNIT_SRC:.c=)))
# bench/engine.c is one program with its parts (bench/engine_*.c, bench/primitives.c).
BENCH_PARTS := $(sort $(wildcard bench/engine_*.c bench/primitives.c))
BENCH_SRC  := $(filter-out $(BENCH_PARTS),$(sort $(wildcard bench/*.c)))
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# bench/proxy.sh's TLS load generator: OpenSSL's libssl as the client (libssl-dev is a
# BENCH_PACKAGES only dependency), so it is built by `make bench` alone.
LOADGEN    := $(BUILD)/bench/loadgen
TOOLS_SRC  := $(sort $(wildcard tests/tools/*.c))
TOOLS_BIN  := $(TOOLS_SRC:tests/tools/%.c=$(BUILD)/tools/%)

PROGRAMS := $(BUILD)/tlsserver $(BUILD)/tlsclient $(BUILD)/moat $(BUILD)/backend

.PHONY: all deps bench-deps install-packages test unit interop run bench install clean format-check
.DELETE_ON_ERROR:

all: $(PROGRAMS)

# Installs what a clean Debian machine lacks; a no-op when everything is present.
deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEB_PACKAGES)"

bench-deps: deps
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BENCH_PACKAGES)"

install-packages:
	@missing=""; for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || \
	        missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing$$missing"; \
	    SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null || \
	    { $$SUDO apt-get update -q >/dev/null && \
	      $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; \
	fi

$(BUILD)/rel/%.o: %.c $(ENGINE_HDR) $(TESTLIB_HDR) $(APP_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c $(ENGINE_HDR) $(TESTLIB_HDR) $(APP_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c $< -o $@

$(BUILD)/libtls.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libtls-san.a: $(ENGINE_SAN)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tlsserver: $(BUILD)/rel/src/tlsserver.o $(BUILD)/libtls.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(UV_LIBS) $(LIBS)

$(BUILD)/tlsclient: $(BUILD)/rel/src/tlsclient.o $(BUILD)/libtls.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(UV_LIBS) $(LIBS)

$(BUILD)/moat: $(BUILD)/rel/src/moat.o $(APP_OBJ) $(BUILD)/libtls.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(APP_LIBS) $(LIBS)

# A small loopback HTTP backend for `make run` and the proxy's tests.
$(BUILD)/backend: $(BUILD)/rel/bench/backend/backend.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(UV_LIBS)

# Unit tests: one program per tests/<area>/test_*.c, under ASan+UBSan.
define unit_rule
$(BUILD)/tests/$(notdir $(1:.c=)): $(BUILD)/san/$(1:.c=.o) $(TESTLIB_SAN) $(APP_SAN) $(BUILD)/libtls-san.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(SAN_CFLAGS) -o $$@ $$^ $$(CHECK_LIBS) $$(APP_LIBS) $$(LIBS)
endef
$(foreach t,$(UNIT_SRC),$(eval $(call unit_rule,$(t))))

$(BUILD)/tools/%: $(BUILD)/rel/tests/tools/%.o $(TESTLIB_REL) $(BUILD)/libtls.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

$(BUILD)/bench/%: $(BUILD)/rel/bench/%.o $(TESTLIB_REL) $(BUILD)/libtls.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

# The engine bench (issue 7) also links OpenSSL's libssl/libcrypto to measure against:
# libssl-dev is in BENCH_PACKAGES only, so nothing `make all` or `make test` builds needs it.
$(BUILD)/rel/bench/engine.o $(BENCH_PARTS:%.c=$(BUILD)/rel/%.o): bench/engine.h
$(BUILD)/bench/engine: $(BUILD)/rel/bench/engine.o $(BENCH_PARTS:%.c=$(BUILD)/rel/%.o) \
                       $(BUILD)/libtls.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lssl -lcrypto $(LIBS)

$(LOADGEN): bench/loadgen/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lssl -lcrypto -lpthread

# Fuzzing (issue 8): one libFuzzer target per tests/fuzz/fuzz_NAME.c, its corpus in
# tests/fuzz/corpus/NAME/. `make fuzz` builds them with clang and runs each for
# FUZZ_SECONDS (tests/fuzz/run.sh); `make test` replays every corpus once through
# tests/fuzz/driver.c, built with CC under ASan+UBSan like the unit tests. The engine is
# linked with its getrandom/time/clock_gettime renamed (tests/fuzz/redefine.syms), so a
# run is deterministic (tests/fuzz/fuzz.h).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_LIB_SRC := tests/fuzz/support.c tests/fuzz/harness.c
FUZZ_HDR     := $(wildcard tests/fuzz/*.h)
FUZZ_BIN     := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_REG_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz-reg/fuzz_%)
FUZZ_CFLAGS  := $(STD) $(filter-out -Werror,$(WARN)) -O1 -g -fno-omit-frame-pointer \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -I.
FUZZ_SYMS    := tests/fuzz/redefine.syms

.PHONY: fuzz fuzz-seeds

$(patsubst %.c,$(BUILD)/san/%.o,$(wildcard tests/fuzz/*.c)): $(FUZZ_HDR)

.PRECIOUS: $(BUILD)/fuzz/obj/%.o
$(BUILD)/fuzz/obj/%.o: %.c $(ENGINE_HDR) $(APP_HDR) $(FUZZ_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/libtls-fuzz.a: $(ENGINE_SRC:%.c=$(BUILD)/fuzz/obj/%.o) $(FUZZ_SYMS)
	@rm -f $@ $@.tmp
	ar rcs $@.tmp $(filter %.o,$^)
	objcopy --redefine-syms=$(FUZZ_SYMS) $@.tmp $@ && rm -f $@.tmp

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o \
                      $(FUZZ_LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o) \
                      $(APP_SRC:%.c=$(BUILD)/fuzz/obj/%.o) $(BUILD)/fuzz/libtls-fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(APP_LIBS) $(LIBS)

$(BUILD)/fuzz-reg/libtls-fuzz.a: $(BUILD)/libtls-san.a $(FUZZ_SYMS)
	@mkdir -p $(dir $@)
	objcopy --redefine-syms=$(FUZZ_SYMS) $< $@

$(BUILD)/fuzz-reg/fuzz_%: $(BUILD)/san/tests/fuzz/fuzz_%.o $(BUILD)/san/tests/fuzz/driver.o \
                          $(FUZZ_LIB_SRC:%.c=$(BUILD)/san/%.o) $(APP_SAN) \
                          $(BUILD)/fuzz-reg/libtls-fuzz.a
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(APP_LIBS) $(LIBS)

$(BUILD)/fuzz-reg/seedgen: $(BUILD)/san/tests/fuzz/seedgen.o $(FUZZ_LIB_SRC:%.c=$(BUILD)/san/%.o) \
                           $(BUILD)/fuzz-reg/libtls-fuzz.a
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(LIBS)

fuzz:
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_TARGETS)

# Rewrites the in-process seeds (tests/fuzz/seedgen.c) and records real peers' bytes
# (tests/fuzz/record_seeds.py) into tests/fuzz/corpus/.
fuzz-seeds: all
	@$(MAKE) --no-print-directory $(BUILD)/fuzz-reg/seedgen
	$(BUILD)/fuzz-reg/seedgen tests/fuzz/corpus
	python3 tests/fuzz/record_seeds.py --build $(BUILD) tests/fuzz/corpus

# Every test program prints one "SUMMARY <passed> <failed>" line; tests/run.sh adds
# them up and ends with "N passed, N failed".
test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(TOOLS_BIN) $(FUZZ_REG_BIN)
	@BUILD=$(BUILD) tests/run.sh $(UNIT_BIN) $(FUZZ_REG_BIN)

unit: deps
	@$(MAKE) --no-print-directory $(UNIT_BIN) $(FUZZ_REG_BIN)
	@BUILD=$(BUILD) SKIP_INTEROP=1 tests/run.sh $(UNIT_BIN) $(FUZZ_REG_BIN)

run: deps all
	@BUILD=$(BUILD) sh scripts/run.sh

bench: bench-deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN) $(LOADGEN)
	@for b in $(BENCH_BIN); do BUILD=$(BUILD) $$b || exit 1; done
	@for s in bench/*.sh; do BUILD=$(BUILD) sh $$s || exit 1; done
	@sh bench/report/latest.sh

# Soak test (issue 8): mixed load through moat for SOAK_SECONDS (default 120), a SIGHUP
# reload in the middle, then checks; report in tests/soak/results.md. Not in `make test`.
.PHONY: soak
soak: bench-deps
	@$(MAKE) --no-print-directory all $(LOADGEN)
	@BUILD=$(BUILD) python3 tests/soak/soak.py

# The example configuration installed as /etc/moat/moat.yaml.example.
EXAMPLE_CONFIG := $(firstword $(wildcard config/moat.example.yaml) config/moat.yaml)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d \
	    $(DESTDIR)/etc/moat
	install -m 0755 $(BUILD)/moat $(BUILD)/tlsserver $(BUILD)/tlsclient $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man/tlsserver.1 man/tlsclient.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/moat.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/moat.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	for unit in moat.service moat.socket; do \
	    sed 's|=/usr/local/|=$(PREFIX)/|' systemd/$$unit \
	        > $(DESTDIR)$(PREFIX)/lib/systemd/system/$$unit && \
	    chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/$$unit || exit 1; \
	done
	printf 'u moat - "moat TLS reverse proxy" - -\n' \
	    > $(DESTDIR)$(PREFIX)/lib/sysusers.d/moat.conf
	install -m 0644 $(EXAMPLE_CONFIG) $(DESTDIR)/etc/moat/moat.yaml.example
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && [ -d /run/systemd/system ]; then \
	    systemd-sysusers $(PREFIX)/lib/sysusers.d/moat.conf && systemctl daemon-reload; \
	fi

clean:
	rm -rf $(BUILD)

format-check:
	clang-format --dry-run --Werror $(ENGINE_SRC) $(ENGINE_HDR) src/*.c
