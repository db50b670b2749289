/*
 * conf.h - the host's settings file (luong.json) and secret references.
 *
 * Relative paths in the file are taken from the file's own directory, so
 * a deployment folder can be moved as a whole.
 */
#ifndef LUONG_CONF_H
#define LUONG_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct conf {
	char *file;	      /* the settings file as given */
	char *listen_host;    /* "127.0.0.1" */
	unsigned listen_port; /* 0: any free port (written to data_dir/port) */
	/* the web console's own address (console_listen), or NULL: the
	 * console is served on `listen` */
	char *console_host;
	unsigned console_port;
	char *admin_token; /* resolved secret */
	char *data_dir;
	char *plugin_dir;
	char *flows_dir;
	char *mappings_dir;
	char *connections_dir;
	unsigned workers;
	size_t webhook_body_limit;
	int log_level;
	bool sync_full;		 /* fsync every commit */
	unsigned wait_timeout_s; /* how long a PENDING call waits for its callback */
	/* the key plugin state is sealed with (seal.h), from $.secret_key or
	 * else data_dir/secret.key, made on first start */
	unsigned char secret_key[32];
	char *secret_key_from; /* where it came from, for messages */
	char *language;	       /* "vi" or "en" (i18n.h), NULL: the default */
};

/* Loads and checks the settings file; on error returns -1 with a line
 * naming the file and the JSON path in err. */
int conf_load(const char *path, struct conf *out, char *err, size_t errlen);
void conf_free(struct conf *c);

/*
 * Resolves a secret reference {"env": "NAME"} or {"file": "path"} (the
 * file must be readable by its owner only). Inline strings are refused:
 * secrets never live in shared files. `base_dir` resolves relative file
 * paths. Returns an owned string, or NULL with err set.
 */
char *conf_secret(const cJSON *ref, const char *base_dir, char *err,
		  size_t errlen);

/* The directory part of a path ("." if none). Owned. */
char *conf_dirname(const char *path);

#endif
