# Makefile for vsearch (PGXS)
#
# Builds one shared library from the rooms under src/.  Compiler flags are
# portable by default; only the SIMD kernel objects get ISA and math flags,
# and the kernel to use is picked at load time from the CPU.

EXTENSION = vsearch
MODULE_big = vsearch
EXTVERSION = 0.1.0

# Rooms in dependency order.  Every .c file in a room is compiled, and the
# install script is the concatenation of src/vsearch.sql and each room's
# .sql files in this order, so a room adds files without editing this list.
ROOMS = common types distance hnsw ivf planner

OBJS = src/vsearch.o $(patsubst %.c,%.o,$(sort $(foreach r,$(ROOMS),$(wildcard src/$(r)/*.c))))

SQL_PARTS = src/vsearch.sql $(foreach r,$(ROOMS),$(sort $(wildcard src/$(r)/*.sql)))
DATA_built = vsearch--$(EXTVERSION).sql
PGFILEDESC = "vsearch - vector search for PostgreSQL"

# pg_regress runs every sql/*.sql, in name order.
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=vsearch

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
ifeq ($(wildcard $(PG_CONFIG)),)
PG_CONFIG = pg_config
endif

PG_CPPFLAGS = -I$(srcdir)/src
# Hidden visibility: only what PostgreSQL must find is exported (see
# src/common/vsfmgr.h).
PG_CPPFLAGS += '-DPGDLLEXPORT=__attribute__((visibility("default")))'
PG_CFLAGS = -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers
ifdef VSEARCH_WERROR
PG_CFLAGS += -Werror
endif
# Undefined-behaviour sanitizer build (scripts/ubsan-check): reports go to
# the server log as "runtime error:" lines.
ifdef VSEARCH_UBSAN
PG_CFLAGS += -fsanitize=undefined,float-cast-overflow -fno-omit-frame-pointer
SHLIB_LINK += -lubsan
endif

# Kernels: the only objects built with ISA flags.  FP contraction lets the
# compiler fuse multiply-adds; nothing else of -ffast-math is used, so NaN
# and infinity keep their meaning.
KERNEL_MATH = -O3 -ffp-contract=fast -fno-math-errno -fno-trapping-math

# Rebuild objects when a header they include changes (PGXS dependency
# tracking, off in Debian's build of PostgreSQL).
override autodepend = yes

# The JIT bitcode would be compiled without the per-object ISA flags above;
# vsearch's functions gain nothing from inlining into JIT code, so skip it.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

vsearch--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

src/distance/distance_avx2.o: override CFLAGS += $(KERNEL_MATH) -mavx2 -mfma
src/distance/distance_avx512.o: override CFLAGS += $(KERNEL_MATH) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma

# The benchmark suite (bench/README.md); BENCH_ARGS passes options, e.g.
# make bench BENCH_ARGS=--quick
.PHONY: bench
bench:
	bench/run $(BENCH_ARGS)

# The soak test for longer than CI's 15 s (scripts/soak): e.g.
# make soak VSEARCH_SOAK_SECONDS=3600
.PHONY: soak
soak:
	scripts/soak

# Random SQL over vsearch's functions for longer than CI's 60 s (scripts/sqlsmith):
# e.g. make sqlsmith VSEARCH_SQLSMITH_SECONDS=3600
.PHONY: sqlsmith
sqlsmith:
	scripts/sqlsmith

# Static analysis of src/ with scan-build and cppcheck (scripts/analyze); fails on
# any finding.
.PHONY: analyze
analyze:
	scripts/analyze
