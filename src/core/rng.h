/*
 * rng.h — counter-based random numbers for forecast_quantiles (no
 * PostgreSQL headers).
 *
 * A counter-based generator has no hidden state: draw number i of stream
 * k is a pure function of (k, i).  forecast_quantiles keys a stream by the
 * hash of a deal's key and indexes it by the trial number, so a deal's
 * outcome in a trial is the same whichever worker sees the deal and in
 * whatever order the rows arrive.
 *
 * The generator is SplitMix64 seeded by the key: draw i is the 64-bit
 * finalizer (a bijection with full avalanche) applied to
 * key + (i + 1) × golden-ratio increment.  Two keys' streams could only
 * coincide if their hashes differed by a small multiple of that increment;
 * for n keys and K draws the chance is about n² K / 2^64, nil in practice.
 */
#ifndef SALESPERF_RNG_H
#define SALESPERF_RNG_H

#include <stddef.h>
#include <stdint.h>

#define SP_RNG_GAMMA	UINT64_C(0x9e3779b97f4a7c15)

/* The SplitMix64 finalizer: a bijection of 64-bit words. */
static inline uint64_t
sp_rng_mix64(uint64_t z)
{
	z ^= z >> 30;
	z *= UINT64_C(0xbf58476d1ce4e5b9);
	z ^= z >> 27;
	z *= UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return z;
}

/* Draw number `counter` (0, 1, ...) of the stream keyed by `key`. */
static inline uint64_t
sp_rng_draw(uint64_t key, uint64_t counter)
{
	return sp_rng_mix64(key + (counter + 1) * SP_RNG_GAMMA);
}

/*
 * 64-bit hash of a byte string, the same on every platform (bytes are
 * read as little-endian words whatever the machine's byte order).
 */
uint64_t	sp_rng_hash_bytes(const void *data, size_t len);

/* A double uniform on [0, 1) from the top 53 bits of a draw. */
double		sp_rng_unit(uint64_t draw);

#endif
