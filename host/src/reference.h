/* reference.h - the connector reference in Markdown (reference.c). */
#ifndef LUONG_REFERENCE_H
#define LUONG_REFERENCE_H

#include <stdio.h>

struct plugin;

/* Every plugin of the list, in its order, as docs/connectors.md. */
void reference_print(FILE *out, const struct plugin *list);

#endif
