# Makefile for vsearch (PGXS)
#
# Builds one shared library from the rooms under src/.  Compiler flags are
# portable by default; only the SIMD kernel objects get ISA and math flags,
# and the kernel to use is picked at load time from the CPU.

EXTENSION = vsearch
MODULE_big = vsearch
EXTVERSION = 0.1.0

OBJS = \
	src/vsearch.o \
	src/distance/distance.o \
	src/distance/distance_avx2.o \
	src/distance/distance_avx512.o \
	src/types/vector.o \
	src/types/vectorops.o

DATA = src/vsearch--$(EXTVERSION).sql
PGFILEDESC = "vsearch - vector search for PostgreSQL"

REGRESS = vector_input vector_ops vector_casts vector_agg
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

# Kernels: the only objects built with ISA flags.  FP contraction lets the
# compiler fuse multiply-adds; nothing else of -ffast-math is used, so NaN
# and infinity keep their meaning.
KERNEL_MATH = -O3 -ffp-contract=fast -fno-math-errno -fno-trapping-math

# The JIT bitcode would be compiled without the per-object ISA flags above;
# vsearch's functions gain nothing from inlining into JIT code, so skip it.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

src/distance/distance_avx2.o: override CFLAGS += $(KERNEL_MATH) -mavx2 -mfma
src/distance/distance_avx512.o: override CFLAGS += $(KERNEL_MATH) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma
