/*
 * mappings.h - changing a mapping table of a running host: checked
 * against the table it replaces, written whole, and taken in by a reload
 * of the flows; a table the flows then refuse is put back as it was.
 */
#ifndef LUONG_MAPPINGS_H
#define LUONG_MAPPINGS_H

#include <cjson/cJSON.h>

struct runtime;

/* {name: {entries}} of every table on disk; NULL with err. */
cJSON *mappings_read(struct runtime *rt, char *err, size_t errlen);
/* 0 saved and in use; -1 refused: *errors (owned) lists why, each
 * naming the JSON path ($.entries["HCM"].voucher_type). */
int mappings_save(struct runtime *rt, const char *name, const cJSON *entries,
		  cJSON **errors);

#endif
