# sluice: one GNU Makefile, no configure step.
#
#   make            build the programs and tools in place
#   make check      tests, then the same tests built with ASan and UBSan
#   make run        smtp-accept on 127.0.0.1:2525 with a spool under ./var
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each
#   make bench      the side-by-side benchmarks of bench/
#   make bench-spf  SPF evaluations per second, lib/spf beside pyspf
#   make install    PREFIX, DESTDIR, BINDIR, MANDIR
#
# B is the build directory prefix ("" builds in place; make check uses
# build/san/ for the sanitizer build).

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
DESTDIR	?=
B	?=

CC	?= cc
CFLAGS	?= -O2 -g
PKGS	= jansson libevent libevent_openssl libevent_pthreads openssl libunbound \
	  libidn2 libpsl icu-uc icu-i18n
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
SCFLAGS	= -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	  -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -iquote lib -MMD -MP -pthread $(PKG_CFLAGS)
ALL_CFLAGS = $(SCFLAGS) $(CFLAGS)

LIBS_JSON  := $(shell pkg-config --libs jansson 2>/dev/null)
LIBS_EVENT := $(shell pkg-config --libs libevent_openssl libevent_pthreads libevent openssl 2>/dev/null)
LIBS_DNS   := $(shell pkg-config --libs libunbound 2>/dev/null)
LIBS_SSL   := $(shell pkg-config --libs openssl 2>/dev/null)
# lib/url and lib/lookalike: IDNA, the Public Suffix List, ICU's spoof checker
LIBS_URL   := $(shell pkg-config --libs libidn2 libpsl icu-i18n icu-uc 2>/dev/null)
# lib/scan: archives and file types; lib/rules: PCRE2
LIBS_SCAN  := $(shell pkg-config --libs libarchive libpcre2-8 2>/dev/null) -lmagic

PROGS	= $(patsubst bin/%.c,%,$(wildcard bin/*.c))
TOOLS	= $(patsubst tools/%.c,%,$(wildcard tools/*.c))
LIBS_smtp-accept = $(LIBS_EVENT) $(LIBS_DNS) $(LIBS_JSON) $(LIBS_SSL)
LIBS_mail-ls	 = $(LIBS_JSON)
LIBS_dmarc-report = $(LIBS_JSON)
LIBS_dkim-keygen = $(LIBS_SSL) $(LIBS_JSON) $(LIBS_DNS)
LIBS_mail-deliver = $(LIBS_EVENT) $(LIBS_DNS) $(LIBS_JSON) $(LIBS_SSL)
LIBS_IDN   := $(shell pkg-config --libs libidn2 2>/dev/null)
LIBS_mail-auth = $(LIBS_EVENT) $(LIBS_DNS) $(LIBS_JSON) $(LIBS_SSL) $(LIBS_IDN)
LIBS_mail-pool   = $(LIBS_JSON)
LIBS_mail-scan   = $(LIBS_SCAN) $(LIBS_JSON) $(LIBS_SSL) $(LIBS_URL) $(LIBS_DNS)
LIBS_mail-poolctl = $(LIBS_JSON)

LIBSRC	= $(sort $(wildcard lib/*.c))
LIBOBJ	= $(patsubst %.c,$(B)%.o,$(LIBSRC))
BINS	= $(addprefix $(B)bin/,$(PROGS)) $(addprefix $(B)tools/,$(TOOLS))
UNITSRC	= $(sort $(wildcard tests/unit/test_*.c))
UNITS	= $(patsubst %.c,$(B)%,$(UNITSRC))
# test drivers: small programs the bats tests run, never installed
TESTBINSRC = $(sort $(wildcard tests/bin/*.c))
TESTBINS = $(patsubst %.c,$(B)%,$(TESTBINSRC))
LIBS_unit = $(LIBS_EVENT) $(LIBS_DNS) $(LIBS_JSON) $(LIBS_SSL) $(LIBS_URL) \
	    $(LIBS_SCAN)
MANS	= $(wildcard man/*.[157])

all: $(BINS)

$(B)%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)lib/libsluice.a: $(LIBOBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)bin/%: $(B)bin/%.o $(B)lib/libsluice.a
	$(CC) $(CFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(LIBS_$(@F)) -lm

$(B)tools/%: $(B)tools/%.o $(B)lib/libsluice.a
	$(CC) $(CFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(LIBS_$(@F)) -lm

$(B)tests/unit/%: $(B)tests/unit/%.o $(B)lib/libsluice.a
	$(CC) $(CFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(LIBS_unit) -lm

$(B)tests/bin/%: $(B)tests/bin/%.o $(B)lib/libsluice.a
	$(CC) $(CFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(LIBS_unit) -lm

units: $(UNITS) $(TESTBINS)

-include $(LIBOBJ:.o=.d) $(BINS:=.d) $(UNITS:=.d) $(TESTBINS:=.d)
.SECONDARY:

# The tests: first the plain build, then ASan and UBSan in build/san/.
SANFLAGS = -O1 -g -fno-omit-frame-pointer \
	   -fsanitize=address,undefined -fno-sanitize-recover=undefined

check:
	@tools/deps check
	@tests/check

check-plain: all units
check-san:
	$(MAKE) B=build/san/ CFLAGS="$(SANFLAGS)" LDFLAGS="$(SANFLAGS)" all units

# The relay on its embedded default.
run: all
	@tools/deps run
	@pipelines/run

# libFuzzer targets, built with clang into build/fuzz/.
FUZZSRC	= $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 180
FUZZFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fsanitize-address-use-after-scope
fuzz-build:
	$(MAKE) B=build/fuzz/ CC=clang \
	    CFLAGS="$(FUZZFLAGS) -fsanitize=fuzzer-no-link" \
	    build/fuzz/lib/libsluice.a
	@for f in $(FUZZSRC); do \
	    t=build/fuzz/$${f%.c}; mkdir -p $$(dirname $$t); \
	    echo "clang $$f"; \
	    clang $(SCFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer -o $$t $$f \
		build/fuzz/lib/libsluice.a $(LIBS_SCAN) $(LIBS_EVENT) \
		$(LIBS_DNS) $(LIBS_JSON) $(LIBS_SSL) $(LIBS_URL) -lm || exit 1; \
	done
fuzz: fuzz-build
	@tests/fuzz/run $(FUZZ_SECONDS)

bench: all
	@tools/deps bench
	@bench/run

bench-spf: all units
	@tools/deps bench
	@bench/spf

bench-relay: all
	@tools/deps bench
	@bench/relay

lint:
	@for m in $(MANS); do mandoc -Tlint -W warning $$m || exit 1; done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do \
	    s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; done

clean:
	rm -rf build lib/*.o lib/*.d lib/libsluice.a bin/*.o bin/*.d \
	    tools/*.o tools/*.d tests/unit/*.o tests/unit/*.d \
	    tests/bin/*.o tests/bin/*.d \
	    $(addprefix bin/,$(PROGS)) $(addprefix tools/,$(TOOLS)) $(UNITS) \
	    $(TESTBINS)

.PHONY: all units check check-plain check-san run fuzz fuzz-build bench \
	lint install clean
