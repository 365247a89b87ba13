// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Version and portability macros shared by every diffana header.
#pragma once

#define DIFFANA_VERSION_MAJOR 0
#define DIFFANA_VERSION_MINOR 1
#define DIFFANA_VERSION_PATCH 0
#define DIFFANA_VERSION_STRING "0.1.0"

// Per-element logic is written once and compiled for host and device: nvcc sees
// __host__ __device__, everything else (g++, clang, cling) sees nothing.
#if defined(__CUDACC__)
#define DIFFANA_HOST_DEVICE __host__ __device__
#define DIFFANA_HAS_CUDA 1
#else
#define DIFFANA_HOST_DEVICE
#define DIFFANA_HAS_CUDA 0
#endif

// Only ever used on forceinline-worthy one-liners in the dual arithmetic.
#if defined(__CUDACC__)
#define DIFFANA_INLINE __forceinline__
#elif defined(__GNUC__) || defined(__clang__)
#define DIFFANA_INLINE inline __attribute__((always_inline))
#else
#define DIFFANA_INLINE inline
#endif

// Kept out of line on purpose: cold paths (throws, growth), and accessors of a
// thread_local, which cling emulates (a call per lookup) and, inlined, looked up
// again at every use of the reference.
#if defined(__GNUC__) || defined(__clang__)
#define DIFFANA_NOINLINE __attribute__((noinline))
#else
#define DIFFANA_NOINLINE
#endif
