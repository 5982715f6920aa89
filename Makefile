# salesperf — PGXS build.
#
# `make demo` and `make test` work on a fresh Debian machine: they install
# the build dependencies first (test/harness/bootstrap.sh), so this file
# must not depend on PGXS being present before that has run.

EXTENSION   = salesperf
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big  = salesperf
CORE_SRCS   = $(sort $(wildcard src/core/*.c))
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)) $(CORE_SRCS))
PG_CPPFLAGS = -I$(srcdir)/src/core
PG_CFLAGS   = -Wall -Wmissing-prototypes -Wno-unused-parameter

# The install script is assembled from sql/install/*.sql in name order.
# Installed beside it, as they are: the install scripts of earlier releases
# (sql/released/, kept so that their databases can be upgraded and the
# upgrade tested) and the upgrade scripts (sql/upgrade/salesperf--A--B.sql).
INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql
DATA        = $(sort $(wildcard sql/released/$(EXTENSION)--*.sql sql/upgrade/$(EXTENSION)--*--*.sql))

# pg_regress: one file per feature, sql/NAME.sql -> expected/NAME.out.
REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=salesperf
CONTRIB_TESTDB = salesperf_regress

EXTRA_CLEAN = build results regression.diffs regression.out $(DATA_built)

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
# Server headers are not installed yet: install them, then do what was asked.
all install installcheck clean:
	bash test/harness/bootstrap.sh
	$(MAKE) $@
endif

# Every object is rebuilt when any of the headers changes: coarse, but a
# stale object after a header edit is never left behind.
$(OBJS) $(OBJS:.o=.bc): $(wildcard src/*.h src/core/*.h)

$(DATA_built): $(INSTALL_PARTS) $(EXTENSION).control
	cat $(INSTALL_PARTS) > $@

# ---- developer entry points -------------------------------------------

.PHONY: bootstrap test unit demo demo-stop bench crash-test valgrind

bootstrap:
	bash test/harness/bootstrap.sh

# cmocka unit tests of the pure C core (no server needed).
UNIT_TESTS = $(patsubst test/unit/%.c,build/unit/%,$(sort $(wildcard test/unit/test_*.c)))

build/unit/%: test/unit/%.c $(CORE_SRCS) $(wildcard src/core/*.h)
	@mkdir -p build/unit
	$(CC) -std=gnu99 -O1 -g -Wall -Wextra -Wno-unused-parameter -Isrc/core -o $@ $< $(CORE_SRCS) -lcmocka -lm

unit: bootstrap $(UNIT_TESTS)
	bash test/harness/run_unit.sh $(UNIT_TESTS)

test: bootstrap
	$(MAKE) all
	$(MAKE) install
	$(MAKE) $(UNIT_TESTS)
	bash test/harness/run_tests.sh

demo: bootstrap
	$(MAKE) all
	$(MAKE) install
	bash test/harness/demo.sh start

demo-stop:
	bash test/harness/demo.sh stop

bench: bootstrap
	$(MAKE) all
	$(MAKE) install
	bash test/bench/run.sh

# Crash the server under a write load, five times, and check the derived
# state against recompute() after each recovery (see test/crash/).
crash-test: bootstrap
	$(MAKE) all
	$(MAKE) install
	bash test/crash/crash_test.sh

# The regression suite against a server under valgrind memcheck; fails on
# any error with a salesperf frame (see test/harness/valgrind.sh).
valgrind: bootstrap
	bash test/harness/bootstrap.sh valgrind
	$(MAKE) all
	$(MAKE) install
	bash test/harness/valgrind.sh
