/*
 * flow_int.h - what flow.c (error lists, JSON helpers, file reading,
 * mapping tables, flow sets) shares with flow_load.c (one flow file).
 * Not for other modules, which use flow.h.
 */
#ifndef LUONG_FLOW_INT_H
#define LUONG_FLOW_INT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "flow.h"

/* Room for a JSON path in messages, such as $.steps[2].input.name. */
#define FLOW_PATH_MAX 512

/* The short name both files report with. */
#define err_add flow_errors_add

/* strdup that aborts when out of memory. */
char *flow_dupstr(const char *s);

/* "an object", "a string", ... for messages. */
const char *flow_type_name(const cJSON *j);
/* Appends ".key" or ["key"] to a JSON path. */
void flow_path_key(char *dst, size_t len, const char *base, const char *key);
/* Reports members of obj that are not in known (NULL-terminated). */
void flow_check_fields(const char *file, const char *path, const cJSON *obj,
		       const char *const *known, struct flow_errors *errs);
/* Gets a member of the wanted type (cJSON type flag). Reports missing (when
 * required) and mistyped members; returns NULL for both. */
const cJSON *flow_get_field(const char *file, const char *path,
			    const cJSON *obj, const char *key, int type,
			    int required, struct flow_errors *errs);
/* Whether s is a valid id: a-z, 0-9 and -, and _ when allowed. */
int flow_valid_id(const char *s, int allow_underscore);

/* Parses text; on failure reports "<file>:<line>:<col>: invalid JSON: ...". */
cJSON *flow_parse_json(const char *file, const char *text, size_t len,
		       struct flow_errors *errs);

/* Loads one file; on errors returns NULL. *id_out gets the flow id when the
 * id itself is valid, even if the rest is not, for duplicate checks. */
struct flow *flow_load_one(const char *path, const cJSON *tables,
			   const struct flow_catalog *cat,
			   struct flow_errors *errs, char **id_out);

#endif
