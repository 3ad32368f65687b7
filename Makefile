# makeclip — build, run and test.
#
#   make                 the module (build/ngx_http_makeclip_module.so), the
#                        makeclip CLI and the C unit tests
#   make run             installs what is missing, builds, and runs nginx in
#                        the foreground on 127.0.0.1:$(PORT) with the
#                        offline sandbox configuration
#   make test            installs what is missing, builds, runs the suite
#   make NGINX_SRC=/path/to/nginx-x.y.z   builds against a source tree
#   make asan            the same module and tools with AddressSanitizer
#   make fuzz            libFuzzer targets (clang)

NGINX_SRC  ?= /usr/share/nginx/src
PORT       ?= 8080
BUILD      ?= build
PROVE      ?= prove
PROVE_ARGS ?= -r

CC         ?= cc
WARN       := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS     ?= -O2 -g
MC_CFLAGS  := -std=gnu99 $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -Ingx_makeclip_module
MC_LIBS    ?= -ljansson -llmdb -lm

NGX_DIR    := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_http_makeclip_module.so

CORE_SRCS  := $(sort $(wildcard ngx_makeclip_module/mc_*.c) \
                     $(wildcard ngx_makeclip_module/adapters/mc_adapter_*.c))
GLUE_SRCS  := $(sort $(wildcard ngx_makeclip_module/ngx_http_makeclip_*.c))
HDRS       := $(wildcard ngx_makeclip_module/*.h)
CORE_OBJS  := $(patsubst ngx_makeclip_module/%.c,$(BUILD)/core/%.o,$(CORE_SRCS))

UNIT_SRCS  := $(sort $(wildcard t/unit/*.c))
UNIT_BINS  := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

export NGINX_SRC

.PHONY: all module cli unit deps run test unit-test asan asan-test valgrind-test fuzz bench clean FORCE

all: module cli unit

module: $(MODULE)
cli: $(BUILD)/makeclip
unit: $(UNIT_BINS)

# The list of sources is part of the nginx configuration (config globs the
# adapters), so adding a file reconfigures.
$(BUILD)/srclist: FORCE
	@mkdir -p $(BUILD)
	@echo "$(NGINX_SRC) $(EXTRA_CFLAGS) $(CORE_SRCS) $(GLUE_SRCS)" \
	    | cmp -s - $@ || echo "$(NGINX_SRC) $(EXTRA_CFLAGS) $(CORE_SRCS) $(GLUE_SRCS)" > $@

$(NGX_DIR)/objs/Makefile: config tools/configure-nginx $(BUILD)/srclist
	tools/configure-nginx "$(NGINX_SRC)" "$(NGX_DIR)" "$(CURDIR)" "$(EXTRA_CFLAGS)"

# Debian's tree is headers only: the module is built for Debian's nginx;
# a full source tree also gives the nginx binary the tests then use
NGX_TARGET := $(if $(wildcard $(NGINX_SRC)/conf_flags),modules,build)

$(MODULE): $(NGX_DIR)/objs/Makefile $(CORE_SRCS) $(GLUE_SRCS) $(HDRS)
	$(MAKE) -C $(NGX_DIR) -f objs/Makefile $(NGX_TARGET)
	@# a new file, renamed into place: a running nginx keeps the old one
	@# mapped, where copying over it would change its code under it
	cp $(NGX_DIR)/objs/ngx_http_makeclip_module.so $@.tmp
	mv -f $@.tmp $@

$(BUILD)/core/%.o: ngx_makeclip_module/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(MC_CFLAGS) -c $< -o $@

$(BUILD)/makeclip: cli/makeclip.c $(CORE_OBJS)
	$(CC) $(MC_CFLAGS) $< $(CORE_OBJS) $(MC_LIBS) -o $@

$(BUILD)/unit/%: t/unit/%.c t/unit/tap.h $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(MC_CFLAGS) -It/unit $< $(CORE_OBJS) $(MC_LIBS) -o $@

deps:
	@tools/deps

run: deps all
	@tools/run $(PORT)

test: deps all
	MAKECLIP_BUILD=$(abspath $(BUILD)) BUILD=$(BUILD) $(PROVE) $(PROVE_ARGS) t/

unit-test: unit
	BUILD=$(BUILD) $(PROVE) t/unit/

# the module and tools with AddressSanitizer and UBSan; the suite runs
# them in Debian's nginx with the sanitizer runtime preloaded
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined

asan:
	$(MAKE) BUILD=build/asan EXTRA_CFLAGS="$(ASAN_FLAGS)" \
	    MC_LIBS="-ljansson -llmdb -lm -fsanitize=address,undefined" all

asan-test: deps asan
	MAKECLIP_BUILD=$(CURDIR)/build/asan BUILD=build/asan \
	MAKECLIP_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0 $(PROVE) $(PROVE_ARGS) t/

# the end-to-end tests with nginx under valgrind's memcheck (slow)
valgrind-test: deps all
	MAKECLIP_VALGRIND=1 MAKECLIP_BUILD=$(abspath $(BUILD)) BUILD=$(BUILD) \
	    $(PROVE) t/e2e/

fuzz:
	$(MAKE) -C t/fuzz run

bench: deps all
	bench/run

clean:
	rm -rf $(BUILD)
