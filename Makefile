# actionhero-c
#
#   make            build build/actionhero (and build/actionhero-test)
#   make run        install what is missing, build, start on the default config
#   make test       install what is missing, build both variants, run every test
#   make asan       AddressSanitizer + UBSan variant in build/asan/
#   make unit       C unit tests only          make integration  black-box only
#   make test-interop  only the interop tests with Node Actionhero (docs/cluster.md)
#   make bench      benchmarks (bench/README.md)
#
# Sources: src/**/*.c (the server), actions/ initializers/ middleware/ (user
# modules, collected by tools/gen-registry.sh), tasks/, tests/actions/ and
# tests/tasks/ (test build only).

CC      ?= cc
O       ?= build
PKGS    := libuv jansson libsodium libpcre2-8 hiredis zlib yajl
# libcrypto is linked statically: the server uses its SHA-1 alone (the
# WebSocket handshake), and from the archive the linker takes only those
# objects, where the shared library would map ~1.4 MB into every process.
CRYPTO_CFLAGS := $(shell pkg-config --cflags libcrypto 2>/dev/null)
CRYPTO_LIBS   := -l:libcrypto.a
DEPS    := build/deps

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual -fno-common -Wno-missing-field-initializers
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
SAN     ?=
CFLAGS_ALL = $(CSTD) $(OPT) $(SAN) $(WARN) -Iinclude -Isrc -I$(DEPS)/include -MMD -MP \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CRYPTO_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_ALL = $(DEPS)/lib/libllhttp.a $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(CRYPTO_LIBS) \
             -lwslay -lm $(EXTRA_LDLIBS)

SRC_SERVER := $(sort $(filter-out src/main.c,$(shell find src -name '*.c')))
SRC_USER   := $(sort $(wildcard actions/*.c initializers/*.c middleware/*.c tasks/*.c))
SRC_TESTACT:= $(sort $(wildcard tests/actions/*.c tests/tasks/*.c))
SRC_UNIT   := $(sort $(wildcard tests/unit/test_*.c))

OBJ_SERVER := $(SRC_SERVER:%.c=$(O)/obj/%.o)
OBJ_USER   := $(SRC_USER:%.c=$(O)/obj/%.o)
OBJ_TESTACT:= $(SRC_TESTACT:%.c=$(O)/obj/%.o)
LIB        := $(O)/libah.a
UNIT_BINS  := $(SRC_UNIT:tests/unit/%.c=$(O)/unit/%)

.PHONY: FORCE all deps deps-test run test asan unit integration bench bench-smoke clean \
        test-asan unit-asan integration-asan fuzz test-interop

all: $(DEPS)/lib/libllhttp.a $(O)/actionhero $(O)/actionhero-test

deps:
	@sh tools/deps.sh build

deps-test:
	@sh tools/deps.sh test

$(DEPS)/lib/libllhttp.a:
	@sh tools/deps.sh build

$(O)/obj/%.o: %.c | $(DEPS)/lib/libllhttp.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(OBJ_SERVER)
	@rm -f $@
	ar rcs $@ $^

# The generated registries: one for the server, one with tests/actions too.
$(O)/gen/registry.c: FORCE
	@sh tools/gen-registry.sh $@ $(SRC_SERVER) $(SRC_USER)
$(O)/gen/registry_test.c: FORCE
	@sh tools/gen-registry.sh $@ $(SRC_SERVER) $(SRC_USER) $(SRC_TESTACT)
$(O)/obj/gen/%.o: $(O)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@
FORCE:

# Keep the unit tests' object files (make would delete them as intermediates).
.SECONDARY:

# Whole-archive so that every core initializer in libah.a is linked (the
# registry references them, but keep the rule simple and explicit).
$(O)/actionhero: $(O)/obj/src/main.o $(O)/obj/gen/registry.o $(OBJ_USER) $(LIB)
	$(CC) $(SAN) -o $@ $(O)/obj/src/main.o $(O)/obj/gen/registry.o $(OBJ_USER) $(LIB) $(LDLIBS_ALL)

$(O)/actionhero-test: $(O)/obj/src/main.o $(O)/obj/gen/registry_test.o $(OBJ_USER) $(OBJ_TESTACT) $(LIB)
	$(CC) $(SAN) -o $@ $(O)/obj/src/main.o $(O)/obj/gen/registry_test.o $(OBJ_USER) $(OBJ_TESTACT) $(LIB) $(LDLIBS_ALL)

# Unit tests link the server library and the test registry.
$(O)/unit/%: $(O)/obj/tests/unit/%.o $(O)/obj/gen/registry_test.o $(OBJ_USER) $(OBJ_TESTACT) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $< $(O)/obj/gen/registry_test.o $(OBJ_USER) $(OBJ_TESTACT) $(LIB) $(LDLIBS_ALL)

unit: all $(UNIT_BINS)
	@SKIP_INTEGRATION=1 sh tests/run-all.sh

integration: all deps-test
	@SKIP_UNIT=1 sh tests/run-all.sh

# Node Actionhero 29 from npm and actionhero-c on one Redis (tests/interop);
# make test runs them too.
test-interop: all deps-test
	@SKIP_UNIT=1 ONLY=tests/interop/ sh tests/run-all.sh

run: deps all
	$(O)/actionhero start

asan:
	@$(MAKE) --no-print-directory O=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all

unit-asan: asan
	@$(MAKE) --no-print-directory O=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit

# make test: both variants, every suite, one summary line at the end.
test:
	@sh tools/deps.sh browser
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory $(UNIT_BINS)
	@$(MAKE) --no-print-directory O=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	    $(UNIT_BINS:$(O)/%=build/asan/%)
	@sh tests/run-all.sh

$(O)/bench/floor: bench/floor/floor.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) -O2 $(WARN) -o $@ $< $(shell pkg-config --cflags --libs libuv)

$(O)/bench/fanout-floor: bench/floor/fanout.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) -O2 $(WARN) -o $@ $<

$(O)/bench/wsload: bench/wsload/wsload.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) -O2 -g $(WARN) -o $@ $< $(shell pkg-config --cflags --libs libuv) -lwslay

BENCH_TOOLS := $(O)/bench/floor $(O)/bench/fanout-floor $(O)/bench/wsload

bench: deps all $(BENCH_TOOLS)
	@sh bench/run.sh $(BENCH_ARGS)

bench-smoke: deps all $(BENCH_TOOLS)
	@sh bench/run.sh --smoke $(BENCH_ARGS)

clean:
	rm -rf $(O)/obj $(O)/gen $(O)/unit $(O)/asan $(O)/actionhero $(O)/actionhero-test $(LIB)

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
