/*
 * common/vec.h -- growing an array (or a byte buffer) by doubling.
 */
#ifndef DS_COMMON_VEC_H
#define DS_COMMON_VEC_H

#include <stddef.h>

/*
 * Make room for need elements of size bytes in the array p of *cap
 * elements: when *cap < need, the array is reallocated to the first of
 * first, 2 first, 4 first, ... (or of twice *cap, ...) that holds need.
 * Returns the array, possibly moved (*cap updated), or NULL when out of
 * memory or past SIZE_MAX, with p and *cap left as they were (p still the
 * caller's to free).
 */
void *vec_grow(void *p, size_t *cap, size_t need, size_t size, size_t first);

#endif
