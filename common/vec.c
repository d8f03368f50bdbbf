/*
 * common/vec.c -- see vec.h.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/vec.h"

void *vec_grow(void *p, size_t *cap, size_t need, size_t size, size_t first)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : (first ? first : 1);
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return NULL;
		n *= 2;
	}
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	void *np = realloc(p, n * size);
	if (np == NULL)
		return NULL;
	*cap = n;
	return np;
}
