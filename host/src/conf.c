/* conf.c - reading luong.json and resolving secret references. */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"
#include "seal.h"
#include "i18n.h"
#include "util.h"

char *conf_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return strndup(path, (size_t)(slash - path));
}

static char *trim_secret(char *s)
{
	size_t n = strlen(s);

	/* a trailing newline in a secret file is never part of the secret */
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

char *conf_secret(const cJSON *ref, const char *base_dir, char *err,
		  size_t errlen)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(ref, "env");
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(ref, "file");
	struct stat st;
	char *path, *val;

	if (cJSON_IsString(ref)) {
		snprintf(err, errlen,
			 _("secrets must be given by reference "
			   "({\"env\": \"NAME\"} or {\"file\": \"path\"}), "
			   "never inline"));
		return NULL;
	}
	if (cJSON_IsString(env)) {
		const char *v = getenv(env->valuestring);

		if (!v || !*v) {
			snprintf(err, errlen,
				 _("environment variable %s is not "
				   "set"),
				 env->valuestring);
			return NULL;
		}
		return xstrdup(v);
	}
	if (!cJSON_IsString(file)) {
		snprintf(err, errlen,
			 _("expected a secret reference {\"env\": "
			   "\"NAME\"} or {\"file\": \"path\"}"));
		return NULL;
	}
	path = util_path_join(base_dir, file->valuestring);
	if (stat(path, &st)) {
		snprintf(err, errlen, _("cannot read secret file %s: %s"), path,
			 strerror(errno));
		free(path);
		return NULL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 _("secret file %s is readable by others "
			   "(mode %03o); chmod 600 it"),
			 path, (unsigned)(st.st_mode & 0777));
		free(path);
		return NULL;
	}
	val = util_read_file(path, NULL);
	if (!val)
		snprintf(err, errlen, _("cannot read secret file %s: %s"), path,
			 strerror(errno));
	else if (!*trim_secret(val)) {
		/* an empty secret would accept an empty credential */
		snprintf(err, errlen, _("secret file %s is empty"), path);
		free(val);
		val = NULL;
	}
	free(path);
	return val;
}

/* A random secret kept in data_dir/<name> when the settings give none:
 * made once (hex of 24 or more random bytes, mode 600 whatever the umask),
 * then read with the rules of any secret file. *made says which. */
static char *data_dir_secret(const char *data_dir, const char *name,
			     size_t nbytes, bool *made, char *err,
			     size_t errlen)
{
	char *path = util_path_join(data_dir, name), *hex = NULL;
	unsigned char rnd[64];
	int fd = -1;

	*made = false;
	if (nbytes > sizeof(rnd) || RAND_bytes(rnd, (int)nbytes) != 1) {
		snprintf(err, errlen, _("cannot make %s: no randomness"), path);
		goto out;
	}
	hex = xmalloc(2 * nbytes + 1);
	for (size_t i = 0; i < nbytes; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* made by an earlier start: same rules as any secret file */
		cJSON *ref = cJSON_CreateObject();

		cJSON_AddStringToObject(ref, "file", path);
		OPENSSL_cleanse(hex, 2 * nbytes);
		free(hex);
		hex = conf_secret(ref, NULL, err, errlen);
		cJSON_Delete(ref);
		goto out;
	}
	if (fd < 0 || write(fd, hex, 2 * nbytes) != (ssize_t)(2 * nbytes) ||
	    fsync(fd)) {
		snprintf(err, errlen, _("cannot write %s: %s"), path,
			 strerror(errno));
		OPENSSL_cleanse(hex, 2 * nbytes);
		free(hex);
		hex = NULL;
		goto out;
	}
	*made = true;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return hex;
}

/* The key plugin state is sealed with: $.secret_key by reference, else
 * data_dir/secret.key, made on first start and said so once. */
static int load_secret_key(const cJSON *root, const char *base, struct conf *c,
			   char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "secret_key");
	bool made = false;
	char e2[256], *secret;

	secret = v ? conf_secret(v, base, e2, sizeof(e2))
		   : data_dir_secret(c->data_dir, "secret.key", 32, &made, e2,
				     sizeof(e2));
	if (secret && strlen(secret) < 32) {
		snprintf(e2, sizeof(e2),
			 "the key must be at least 32 "
			 "characters (make one with: openssl rand -hex 32)");
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
		secret = NULL;
	}
	if (!secret) {
		snprintf(err, errlen, _("%s: $.secret_key: %s"), c->file, e2);
		return -1;
	}
	seal_key_derive(secret, c->secret_key);
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	c->secret_key_from = v ? xasprintf(_("$.secret_key in %s"), c->file)
			       : util_path_join(c->data_dir, "secret.key");
	if (made)
		log_info("made a new key for plugin state in %s: keep it with "
			 "the data folder (what it sealed cannot be read "
			 "without it), or set $.secret_key in %s",
			 c->secret_key_from, c->file);
	return 0;
}

static int get_string(const cJSON *root, const char *key, const char *def,
		      const char *base, char **out, const char *file, char *err,
		      size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	if (!v) {
		*out = def ? util_path_join(base, def) : NULL;
		return 0;
	}
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, _("%s: $.%s: expected a string"), file,
			 key);
		return -1;
	}
	*out = base ? util_path_join(base, v->valuestring)
		    : xstrdup(v->valuestring);
	return 0;
}

/* $.plugin_dir, else "plugins" beside the settings file when it exists,
 * else where `cmake --install` put the plugins (pkg-config's plugindir). */
static int get_plugin_dir(const cJSON *root, const char *base, struct conf *c,
			  const char *file, char *err, size_t errlen)
{
	struct stat st;
	char *installed;

	if (get_string(root, "plugin_dir", "plugins", base, &c->plugin_dir,
		       file, err, errlen))
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(root, "plugin_dir") ||
	    !stat(c->plugin_dir, &st))
		return 0;
	installed = util_beside_binary(LUONG_BIN_TO_PLUGINDIR);
	if (installed && !stat(installed, &st) && S_ISDIR(st.st_mode)) {
		free(c->plugin_dir);
		c->plugin_dir = installed;
	} else {
		free(installed);
	}
	return 0;
}

static int get_uint(const cJSON *root, const char *key, double def, double max,
		    double *out, const char *file, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	if (!v) {
		*out = def;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
	    v->valuedouble != (double)(int64_t)v->valuedouble) {
		snprintf(err, errlen,
			 _("%s: $.%s: expected a whole number "
			   "from 0 to %.0f"),
			 file, key, max);
		return -1;
	}
	*out = v->valuedouble;
	return 0;
}

static const char *const known_keys[] = {
	"listen",	   "admin_token",    "data_dir",
	"plugin_dir",	   "flows_dir",	     "mappings_dir",
	"connections_dir", "workers",	     "webhook_body_limit",
	"log_level",	   "sync",	     "wait_timeout_s",
	"secret_key",	   "console_listen", "language"
};

static int check_keys(const cJSON *root, const char *file, char *err,
		      size_t errlen)
{
	const cJSON *it;

	cJSON_ArrayForEach (it, root) {
		bool ok = false;

		for (size_t i = 0; i < ARRAY_SIZE(known_keys); i++)
			ok |= !strcmp(it->string, known_keys[i]);
		if (!ok) {
			snprintf(err, errlen, _("%s: $.%s: unknown setting"),
				 file, it->string);
			return -1;
		}
	}
	return 0;
}

/* "host:port" of setting `key` (def when absent) into *host, *port. */
static int parse_addr(const cJSON *root, const char *key, const char *def,
		      const struct conf *c, char **host, unsigned *port_out,
		      char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
	const char *s = cJSON_IsString(v) ? v->valuestring : def;
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (v && !cJSON_IsString(v))
		colon = NULL;
	/* strtol alone would take "", " 80" and "+80" */
	if (colon && !isdigit((unsigned char)colon[1]))
		colon = NULL;
	port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || colon == s || *end || port < 0 || port > 65535) {
		snprintf(err, errlen, _("%s: $.%s: expected \"host:port\""),
			 c->file, key);
		return -1;
	}
	*host = strndup(s, (size_t)(colon - s));
	*port_out = (unsigned)port;
	return 0;
}

static int parse_listen(const cJSON *root, struct conf *c, char *err,
			size_t errlen)
{
	if (parse_addr(root, "listen", "127.0.0.1:7700", c, &c->listen_host,
		       &c->listen_port, err, errlen))
		return -1;
	if (!cJSON_HasObjectItem(root, "console_listen"))
		return 0;
	return parse_addr(root, "console_listen", "", c, &c->console_host,
			  &c->console_port, err, errlen);
}

int conf_load(const char *path, struct conf *c, char *err, size_t errlen)
{
	char *text = util_read_file(path, NULL), *base;
	const cJSON *v;
	cJSON *root;
	double num;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	c->file = xstrdup(path);
	if (!text) {
		snprintf(err, errlen, _("cannot read %s: %s"), path,
			 strerror(errno));
		return -1;
	}
	root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, _("%s: not a JSON object"), path);
		cJSON_Delete(root);
		return -1;
	}
	base = conf_dirname(path);
	/* first, so that a caller can tell the other errors in it */
	v = cJSON_GetObjectItemCaseSensitive(root, "language");
	if (v && (!cJSON_IsString(v) || !i18n_known(v->valuestring))) {
		snprintf(err, errlen,
			 _("%s: $.language: expected \"vi\" or \"en\""), path);
		goto out;
	}
	c->language = v ? xstrdup(v->valuestring) : NULL;
	if (check_keys(root, path, err, errlen) ||
	    parse_listen(root, c, err, errlen) ||
	    get_string(root, "data_dir", "var", base, &c->data_dir, path, err,
		       errlen) ||
	    get_plugin_dir(root, base, c, path, err, errlen) ||
	    get_string(root, "flows_dir", "flows", base, &c->flows_dir, path,
		       err, errlen) ||
	    get_string(root, "mappings_dir", "mappings", base, &c->mappings_dir,
		       path, err, errlen) ||
	    get_string(root, "connections_dir", "connections", base,
		       &c->connections_dir, path, err, errlen))
		goto out;
	if (get_uint(root, "workers", 8, 256, &num, path, err, errlen))
		goto out;
	c->workers = num ? (unsigned)num : 8;
	if (get_uint(root, "webhook_body_limit", 1 << 20, 1 << 30, &num, path,
		     err, errlen))
		goto out;
	c->webhook_body_limit = (size_t)num;
	if (get_uint(root, "wait_timeout_s", 600, 86400 * 7, &num, path, err,
		     errlen))
		goto out;
	c->wait_timeout_s = (unsigned)num;
	c->log_level = LUONG_LOG_INFO;
	v = cJSON_GetObjectItemCaseSensitive(root, "log_level");
	if (v && (!cJSON_IsString(v) ||
		  (c->log_level = log_level_parse(v->valuestring)) < 0)) {
		snprintf(err, errlen,
			 _("%s: $.log_level: expected error, warn, "
			   "info or debug"),
			 path);
		goto out;
	}
	c->sync_full = true;
	v = cJSON_GetObjectItemCaseSensitive(root, "sync");
	if (v) {
		if (!cJSON_IsString(v) || (strcmp(v->valuestring, "full") &&
					   strcmp(v->valuestring, "normal"))) {
			snprintf(err, errlen,
				 _("%s: $.sync: expected \"full\" "
				   "(fsync every commit) or \"normal\""),
				 path);
			goto out;
		}
		c->sync_full = !strcmp(v->valuestring, "full");
	}
	if (mkdir(c->data_dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, _("%s: $.data_dir: cannot create %s: %s"),
			 path, c->data_dir, strerror(errno));
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "admin_token");
	{
		char e2[256];

		bool made;

		c->admin_token = v ? conf_secret(v, base, e2, sizeof(e2))
				   : data_dir_secret(c->data_dir, "admin.token",
						     24, &made, e2, sizeof(e2));
		if (!c->admin_token) {
			snprintf(err, errlen, _("%s: $.admin_token: %s"), path,
				 e2);
			goto out;
		}
	}
	if (load_secret_key(root, base, c, err, errlen))
		goto out;
	rc = 0;
out:
	free(base);
	cJSON_Delete(root);
	return rc;
}

void conf_free(struct conf *c)
{
	free(c->file);
	free(c->listen_host);
	free(c->console_host);
	if (c->admin_token)
		memset(c->admin_token, 0, strlen(c->admin_token));
	free(c->admin_token);
	free(c->data_dir);
	free(c->plugin_dir);
	free(c->flows_dir);
	free(c->mappings_dir);
	free(c->connections_dir);
	free(c->secret_key_from);
	free(c->language);
	OPENSSL_cleanse(c, sizeof(*c));
}
