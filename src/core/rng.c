/*
 * rng.c — the key hash of the counter-based generator.
 *
 * The hash absorbs the length first, then each 8-byte little-endian word
 * (the last one zero-padded) through the SplitMix64 finalizer, and mixes
 * once more at the end.  Because the length is absorbed, zero padding
 * cannot make two different strings collide by construction.
 */
#include "rng.h"

uint64_t
sp_rng_hash_bytes(const void *data, size_t len)
{
	const unsigned char *b = data;
	uint64_t	h = UINT64_C(0x6a09e667f3bcc908) ^ ((uint64_t) len * SP_RNG_GAMMA);
	size_t		i = 0;

	h = sp_rng_mix64(h);
	while (i < len)
	{
		uint64_t	w = 0;
		size_t		k;

		for (k = 0; k < 8 && i + k < len; k++)
			w |= (uint64_t) b[i + k] << (8 * k);
		h = sp_rng_mix64(h ^ w) + SP_RNG_GAMMA;
		i += 8;
	}
	return sp_rng_mix64(h);
}

double
sp_rng_unit(uint64_t draw)
{
	return (double) (draw >> 11) * (1.0 / 9007199254740992.0);
}
