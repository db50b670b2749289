/*
 * fuzz_flow.c - one flow file through the host's flow loader, checked
 * against a catalog of the in-tree plugins (connections misa, kho, crm
 * and probe) with the sandbox deployment's mapping tables.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "log.h"

static struct flow_catalog cat;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_dir();
	fuzz_catalog(&cat);
	fuzz_tables();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_put(fuzz_dir(), "flow.json", data, size);
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	bool leaky = fuzz_jq_may_leak_in(j);
	struct flow_errors errs = { 0 };
	struct flow *f;

	fuzz_leaks_ignore(leaky);
	f = flow_load_file(path, fuzz_tables(), &cat, &errs);
	fuzz_leaks_ignore(false);
	if (leaky && f) {
		flow_free(f);
		f = flow_load_file(path, fuzz_tables(), &cat, &errs);
	}
	cJSON_Delete(j);
	/* as `luong flows check` reports them */
	for (size_t i = 0; i < errs.n; i++)
		log_error("%s", errs.msgs[i]);
	flow_free(f);
	flow_errors_clear(&errs);
	free(path);
	return 0;
}
