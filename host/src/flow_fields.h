/*
 * flow_fields.h - a flow checked against what plugins declare (SDK 1.2):
 * an action's inputs, an event's payload fields.
 */
#ifndef LUONG_FLOW_FIELDS_H
#define LUONG_FLOW_FIELDS_H

#include <cjson/cJSON.h>

#include <luong/plugin.h>

#include "flow.h"

/*
 * A step's input template against the action's declared inputs: an input
 * the action does not take, a required one not mapped (or mapped to the
 * constant null), a constant of the wrong type. Each is one error
 * "file: $.steps[i].input.name: ..." in errs. decl NULL: nothing checked.
 */
void flow_check_inputs(const char *file, const char *path, const char *what,
		       const cJSON *input, const struct luong_field_def *decl,
		       struct flow_errors *errs);

/*
 * An expression (a `when` or an input's leaf) against the event's payload
 * fields: a warning for each `.name` read at the top of the document that
 * the event never has. fields NULL: nothing checked.
 */
void flow_check_reads(const char *file, const char *path, const char *what,
		      const char *expr, const struct luong_field_def *fields,
		      struct flow_errors *warns);

/* flow_check_reads over every string leaf of an input template. */
void flow_check_template_reads(const char *file, const char *path,
			       const char *what, const cJSON *t,
			       const struct luong_field_def *fields,
			       struct flow_errors *warns);

#endif
