/*
 * fuzz_connection.c - one connection file (connections/<name>.json) read
 * by the host's loader and validated against the tables of the in-tree
 * plugins; what passes is started with init() and stopped with fini().
 *
 * Secrets resolve for {"env": "FUZZ_SECRET"} and {"file":
 * "secret.token"}; an input naming a file outside the scratch folder
 * (absolute, or with "..") is skipped so the fuzzer never reads the
 * machine's files.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "util.h"

static struct runtime rt;
static char *conn_dir;

static bool file_ref_escapes(const cJSON *j)
{
	const cJSON *it;

	cJSON_ArrayForEach (it, j) {
		if (it->string && !strcmp(it->string, "file") &&
		    cJSON_IsString(it) &&
		    (it->valuestring[0] == '/' || strstr(it->valuestring, "."
									  ".")))
			return true;
		if (file_ref_escapes(it))
			return true;
	}
	return false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const sos[] = { FUZZ_PLUGIN_MISA_AMIS,
					   FUZZ_PLUGIN_AMIS_KHO,
					   FUZZ_PLUGIN_AMIS_CRM,
					   FUZZ_PLUGIN_PROBE };
	char *shared;

	conn_dir = xasprintf("%s/connections", fuzz_dir());
	if (mkdir(conn_dir, 0700))
		abort();
	free(fuzz_put(conn_dir, "secret.token", "s3cret\n", 7));
	free(fuzz_put(conn_dir, "empty.token", "\n", 1));
	shared = fuzz_put(conn_dir, "shared.token", "s3cret", 6);
	chmod(shared, 0644); /* refused: readable by others */
	free(shared);
	setenv("FUZZ_SECRET", "s3cret", 1);
	fuzz_runtime_init(&rt, sos, ARRAY_SIZE(sos));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* read as the loader reads it: up to the first NUL */
	char *text = fuzz_strndup(data, size);
	cJSON *j = cJSON_Parse(text);
	bool skip = file_ref_escapes(j);
	size_t errors = 0;

	cJSON_Delete(j);
	free(text);
	if (skip)
		return 0;
	free(fuzz_put(conn_dir, "fuzz.json", data, size));
	loader_read_connections(&rt, conn_dir, &errors);
	loader_init_connections(&rt);
	loader_fini_connections(&rt);
	return 0;
}
