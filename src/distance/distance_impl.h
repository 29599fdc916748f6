/*-------------------------------------------------------------------------
 *
 * distance_impl.h
 *	  Private to the distance room: the kernel tables each object defines.
 *
 * Design: each instruction set lives in its own object file compiled with
 * its own ISA flags, so nothing outside that file can emit those
 * instructions by accident on a CPU that lacks them.
 *
 * IDENTIFICATION
 *	  src/distance/distance_impl.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_DISTANCE_IMPL_H
#define VSEARCH_DISTANCE_IMPL_H

#include "distance/distance.h"

extern const VsKernelTable vs_kernel_scalar;
extern const VsKernelTable vs_kernel_avx2;	/* needs AVX2 and FMA */
extern const VsKernelTable vs_kernel_avx512;	/* needs AVX-512 F, BW, VL, DQ */

#endif							/* VSEARCH_DISTANCE_IMPL_H */
