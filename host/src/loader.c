/* loader.c - loading plugins and configuring connections. */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "engine.h" /* HOST_CONNECTION */
#include "helpers.h"
#include "i18n.h"
#include "log.h"
#include "ratelimit.h"
#include "runtime.h"
#include "util.h"

/* The descriptor size of ABI 1.0: a plugin must provide at least this. */
#define PLUGIN_V1_0_SIZE                                                       \
	(offsetof(struct luong_plugin, webhook) + sizeof(luong_webhook_fn))

/* The size of one action row as the plugin was built: 1.0 and 1.1 rows
 * end after run(), 1.2 appended check(). */
static size_t action_row_size(const struct luong_plugin *d)
{
	return d->abi_minor >= 2 ? sizeof(struct luong_action_def)
				 : LUONG_ACTION_DEF_V1_0_SIZE;
}

/* Row i of the plugin's action table, at the plugin's own row size. */
static const struct luong_action_def *action_row(const struct luong_plugin *d,
						 size_t i)
{
	return (const struct luong_action_def *)((const char *)d->actions +
						 i * action_row_size(d));
}

#define for_each_action(a, d, i)                                               \
	for (size_t i = 0; (d)->actions && ((a) = action_row((d), i))->name;   \
	     i++)

/* Event rows grew in 1.2 too (fields, sample). */
static size_t event_row_size(const struct luong_plugin *d)
{
	return d->abi_minor >= 2 ? sizeof(struct luong_event_def)
				 : LUONG_EVENT_DEF_V1_0_SIZE;
}

static const struct luong_event_def *event_row(const struct luong_plugin *d,
					       size_t i)
{
	return (const struct luong_event_def *)((const char *)d->events +
						i * event_row_size(d));
}

#define for_each_event(e, d, i)                                                \
	for (size_t i = 0; (d)->events && ((e) = event_row((d), i))->name; i++)

static bool valid_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return false;
	return true;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The tables are read later, on worker threads: a hole found there
 * would crash the host, so it is refused at load. */
static int check_tables(const char *file, const struct luong_plugin *d,
			char *err, size_t errlen)
{
	for (const struct luong_config_field *f = d->config; f && f->name; f++)
		if (f->type < LUONG_CFG_STRING || f->type > LUONG_CFG_SECRET) {
			snprintf(err, errlen,
				 _("plugin %s (%s): setting \"%s\" "
				   "has type %u, host knows types 1 to %d"),
				 file, d->name, f->name, f->type,
				 LUONG_CFG_SECRET);
			return -1;
		}
	const struct luong_event_def *e;

	for_each_event (e, d, i) {
		if (e->kind != LUONG_EVENT_WEBHOOK &&
		    e->kind != LUONG_EVENT_POLL &&
		    e->kind != LUONG_EVENT_GUARD) {
			snprintf(err, errlen,
				 _("plugin %s (%s): event \"%s\" "
				   "has kind %u, host needs 1 (webhook), 2 "
				   "(poll) or 3 (guard)"),
				 file, d->name, e->name, e->kind);
			return -1;
		}
		if (e->kind == LUONG_EVENT_POLL && !e->poll) {
			snprintf(err, errlen,
				 _("plugin %s (%s): poll event "
				   "\"%s\" has no poll()"),
				 file, d->name, e->name);
			return -1;
		}
	}
	const struct luong_action_def *a;

	for_each_action (a, d, i)
		if (!a->run && !(d->abi_minor >= 2 && a->perform)) {
			snprintf(err, errlen,
				 _("plugin %s (%s): action \"%s\" "
				   "has no run() or perform()"),
				 file, d->name, a->name);
			return -1;
		}
	return 0;
}

/* Checks what the descriptor says before the host relies on it. */
static int check_descriptor(const char *file, const struct luong_plugin *d,
			    struct plugin *loaded, char *err, size_t errlen)
{
	struct plugin *p;

	/* nothing past the ABI numbers is read before they match */
	if (d->abi_major != LUONG_ABI_MAJOR) {
		snprintf(err, errlen,
			 _("plugin %s: built for ABI %u.%u, host "
			   "needs ABI %d.0 to %d.%d; rebuild the plugin "
			   "against "
			   "this host's SDK"),
			 file, d->abi_major, d->abi_minor, LUONG_ABI_MAJOR,
			 LUONG_ABI_MAJOR, LUONG_ABI_MINOR);
		return -1;
	}
	if (d->abi_minor > LUONG_ABI_MINOR) {
		snprintf(err, errlen,
			 _("plugin %s: built for ABI %u.%u, host "
			   "needs ABI %d.0 to %d.%d; upgrade the host"),
			 file, d->abi_major, d->abi_minor, LUONG_ABI_MAJOR,
			 LUONG_ABI_MAJOR, LUONG_ABI_MINOR);
		return -1;
	}
	if (d->struct_size < PLUGIN_V1_0_SIZE) {
		snprintf(err, errlen,
			 _("plugin %s: descriptor is %u bytes, ABI "
			   "1.0 needs at least %zu"),
			 file, d->struct_size, (size_t)PLUGIN_V1_0_SIZE);
		return -1;
	}
	if (!valid_name(d->name)) {
		snprintf(err, errlen,
			 _("plugin %s: name \"%s\" is not "
			   "[a-z0-9_-]+"),
			 file, d->name ? d->name : "");
		return -1;
	}
	if (!d->version || !d->init || !d->fini) {
		snprintf(err, errlen, _("plugin %s (%s): missing %s"), file,
			 d->name,
			 !d->version ? "version"
			 : !d->init  ? "init()"
				     : "fini()");
		return -1;
	}
	if (check_tables(file, d, err, errlen) ||
	    plugin_check_rate_limit(file, d, err, errlen))
		return -1;
	for (p = loaded; p; p = p->next)
		if (!strcmp(p->desc->name, d->name)) {
			snprintf(err, errlen,
				 _("plugin %s: name \"%s\" is "
				   "already taken by %s; plugin names must be "
				   "unique"),
				 file, d->name, base_name(p->path));
			return -1;
		}
	return 0;
}

struct plugin *loader_load_plugin(const char *path, struct plugin *loaded,
				  char *err, size_t errlen)
{
	const char *file = base_name(path);
	const struct luong_plugin *(*entry)(void);
	const struct luong_plugin *d;
	struct plugin *p;
	void *dl;

	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(err, errlen, _("plugin %s: cannot load: %s"), file,
			 dlerror());
		return NULL;
	}
	*(void **)&entry = dlsym(dl, LUONG_ENTRY_SYMBOL);
	if (!entry) {
		snprintf(err, errlen,
			 _("plugin %s: no %s symbol, which every "
			   "Luồng plugin must export"),
			 file, LUONG_ENTRY_SYMBOL);
		goto out_close;
	}
	d = entry();
	if (!d) {
		snprintf(err, errlen, _("plugin %s: %s returned nothing"), file,
			 LUONG_ENTRY_SYMBOL);
		goto out_close;
	}
	if (check_descriptor(file, d, loaded, err, errlen))
		goto out_close;
	p = xcalloc(1, sizeof(*p));
	p->path = xstrdup(path);
	p->dl = dl;
	p->desc = d;
	return p;

out_close:
	dlclose(dl);
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the files in dir ending in suffix. */
static char **list_dir(const char *dir, const char *suffix, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t cap = 0, len = strlen(suffix);

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		size_t nl = strlen(e->d_name);

		if (e->d_name[0] == '.' || nl <= len ||
		    strcmp(e->d_name + nl - len, suffix))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(names, *n, sizeof(*names), cmp_str);
	return names;
}

struct plugin *loader_load_dir(const char *dir, size_t *n_refused)
{
	struct plugin *list = NULL, **tail = &list;
	size_t n;
	char **names;

	errno = 0; /* an empty folder leaves errno as it was */
	names = list_dir(dir, ".so", &n);
	if (!names && errno)
		log_warn("plugins: cannot read %s: %s", dir, strerror(errno));
	for (size_t i = 0; i < n; i++) {
		char err[512], *path = util_path_join(dir, names[i]);
		struct plugin *p =
			loader_load_plugin(path, list, err, sizeof(err));

		if (p) {
			*tail = p;
			tail = &p->next;
			log_info("plugin %s: loaded %s %s (ABI %u.%u)",
				 names[i], p->desc->name, p->desc->version,
				 p->desc->abi_major, p->desc->abi_minor);
		} else {
			log_error("%s", err);
			if (n_refused)
				(*n_refused)++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return list;
}

void loader_unload_all(struct plugin *list)
{
	while (list) {
		struct plugin *next = list->next;

		dlclose(list->dl);
		free(list->path);
		free(list);
		list = next;
	}
}

struct plugin *loader_find(struct plugin *list, const char *name)
{
	for (; list; list = list->next)
		if (!strcmp(list->desc->name, name))
			return list;
	return NULL;
}

const struct luong_event_def *plugin_event(const struct plugin *p,
					   const char *name)
{
	const struct luong_event_def *e;

	for_each_event (e, p->desc, i)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

size_t plugin_event_row_size(const struct plugin *p)
{
	return event_row_size(p->desc);
}

size_t plugin_event_count(const struct plugin *p)
{
	const struct luong_event_def *e;
	size_t n = 0;

	for_each_event (e, p->desc, i)
		n++;
	return n;
}

const struct luong_field_def *
plugin_event_fields(const struct plugin *p, const struct luong_event_def *e)
{
	return p->desc->abi_minor >= 2 ? e->fields : NULL;
}

const char *plugin_event_sample(const struct plugin *p,
				const struct luong_event_def *e)
{
	return p->desc->abi_minor >= 2 ? e->sample : NULL;
}

const struct luong_field_def *
plugin_action_inputs(const struct plugin *p, const struct luong_action_def *a)
{
	return p->desc->abi_minor >= 2 ? a->inputs : NULL;
}

const struct luong_field_def *
plugin_action_outputs(const struct plugin *p, const struct luong_action_def *a)
{
	return p->desc->abi_minor >= 2 ? a->outputs : NULL;
}

luong_perform_fn plugin_action_perform(const struct plugin *p,
				       const struct luong_action_def *a)
{
	return p->desc->abi_minor >= 2 ? a->perform : NULL;
}

const struct luong_action_def *plugin_action(const struct plugin *p,
					     const char *name)
{
	const struct luong_action_def *a;

	for_each_action (a, p->desc, i)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

size_t plugin_action_row_size(const struct plugin *p)
{
	return action_row_size(p->desc);
}

size_t plugin_action_count(const struct plugin *p)
{
	const struct luong_action_def *a;
	size_t n = 0;

	for_each_action (a, p->desc, i)
		n++;
	return n;
}

luong_check_fn plugin_action_check(const struct plugin *p,
				   const struct luong_action_def *a)
{
	/* a row built before 1.2 ends before check: not read */
	return p->desc->abi_minor >= 2 ? a->check : NULL;
}

luong_fetch_fn plugin_event_fetch(const struct plugin *p,
				  const struct luong_event_def *e)
{
	return p->desc->abi_minor >= 2 ? e->fetch : NULL;
}

static const char *const type_names[] = { "",	  "string", "int",
					  "bool", "url",    "secret" };

const char *const field_type_names[] = { "any",	 "string", "number", "integer",
					 "bool", "object", "array" };

/* Declared fields as [{name, type, required, description}], when any. */
static void describe_fields(cJSON *o, const char *key,
			    const struct luong_field_def *f)
{
	cJSON *arr;

	if (!f)
		return;
	arr = cJSON_AddArrayToObject(o, key);
	for (; f->name; f++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "name", f->name);
		cJSON_AddStringToObject(c, "type",
					f->type <= LUONG_FIELD_ARRAY
						? field_type_names[f->type]
						: "?");
		cJSON_AddBoolToObject(c, "required",
				      f->flags & LUONG_FIELD_REQUIRED);
		cJSON_AddStringToObject(c, "description",
					f->description ? f->description : "");
		cJSON_AddItemToArray(arr, c);
	}
}

cJSON *plugin_describe(const struct plugin *p)
{
	const struct luong_plugin *d = p->desc;
	const struct luong_action_def *a;
	const struct luong_event_def *e;
	cJSON *o = cJSON_CreateObject(), *arr;

	cJSON_AddStringToObject(o, "name", d->name);
	cJSON_AddStringToObject(o, "version", d->version);
	cJSON_AddStringToObject(o, "description",
				d->description ? d->description : "");
	cJSON_AddStringToObject(o, "file", base_name(p->path));
	arr = cJSON_AddArrayToObject(o, "config");
	for (const struct luong_config_field *f = d->config; f && f->name;
	     f++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "name", f->name);
		cJSON_AddStringToObject(c, "type",
					f->type < ARRAY_SIZE(type_names)
						? type_names[f->type]
						: "?");
		cJSON_AddBoolToObject(c, "required",
				      f->flags & LUONG_CFG_REQUIRED);
		if (f->default_value)
			cJSON_AddStringToObject(c, "default", f->default_value);
		cJSON_AddStringToObject(c, "description",
					f->description ? f->description : "");
		cJSON_AddItemToArray(arr, c);
	}
	arr = cJSON_AddArrayToObject(o, "events");
	for_each_event (e, d, i) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "name", e->name);
		cJSON_AddStringToObject(c, "kind",
					e->kind == LUONG_EVENT_POLL    ? "poll"
					: e->kind == LUONG_EVENT_GUARD ? "guard"
								       : "webho"
									 "ok");
		cJSON_AddStringToObject(c, "description",
					e->description ? e->description : "");
		describe_fields(c, "fields", plugin_event_fields(p, e));
		/* the go-live check can read a document of it by id */
		cJSON_AddBoolToObject(c, "fetch",
				      plugin_event_fetch(p, e) != NULL);
		if (plugin_event_sample(p, e))
			cJSON_AddItemToObject(
				c, "sample",
				cJSON_Parse(plugin_event_sample(p, e)));
		cJSON_AddItemToArray(arr, c);
	}
	arr = cJSON_AddArrayToObject(o, "actions");
	for_each_action (a, d, i) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "name", a->name);
		cJSON_AddStringToObject(c, "description",
					a->description ? a->description : "");
		cJSON_AddBoolToObject(c, "check",
				      plugin_action_check(p, a) != NULL);
		describe_fields(c, "inputs", plugin_action_inputs(p, a));
		describe_fields(c, "outputs", plugin_action_outputs(p, a));
		cJSON_AddItemToArray(arr, c);
	}
	cJSON_AddItemToObject(o, "rate_limit",
			      rate_limit_describe(plugin_rate_limit(d)));
	return o;
}

/* ---- connections ----------------------------------------------------- */

static const struct luong_config_field *find_field(const struct plugin *p,
						   const char *key)
{
	for (const struct luong_config_field *f = p->desc->config; f && f->name;
	     f++)
		if (!strcmp(f->name, key))
			return f;
	return NULL;
}

/* Converts one setting to its text form, checking its declared type. */
static char *setting_value(const struct luong_config_field *f, const cJSON *v,
			   const char *base, char *err, size_t errlen)
{
	switch (f->type) {
	case LUONG_CFG_SECRET: return conf_secret(v, base, err, errlen);
	case LUONG_CFG_INT:
		/* range first: casting an out-of-range double is undefined */
		if (cJSON_IsNumber(v) && fabs(v->valuedouble) < 9.2e18 &&
		    v->valuedouble == (double)(int64_t)v->valuedouble)
			return xasprintf("%lld", (long long)v->valuedouble);
		snprintf(err, errlen, _("expected a whole number"));
		return NULL;
	case LUONG_CFG_BOOL:
		if (cJSON_IsBool(v))
			return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
		snprintf(err, errlen, _("expected true or false"));
		return NULL;
	case LUONG_CFG_URL:
		if (cJSON_IsString(v) &&
		    (!strncmp(v->valuestring, "http://", 7) ||
		     !strncmp(v->valuestring, "https://", 8)))
			return xstrdup(v->valuestring);
		snprintf(err, errlen, _("expected an http:// or https:// URL"));
		return NULL;
	default:
		if (cJSON_IsString(v))
			return xstrdup(v->valuestring);
		snprintf(err, errlen, _("expected a string"));
		return NULL;
	}
}

static char *known_fields(const struct plugin *p)
{
	char buf[512] = "";
	size_t n = 0;

	for (const struct luong_config_field *f = p->desc->config;
	     f && f->name && n < sizeof(buf) - 1; f++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
				      n ? ", " : "", f->name);
	return xstrdup(n ? buf : "none");
}

/* Validates settings against the plugin's table; fills ctx->values. */
static int read_settings(struct luong_ctx *ctx, const cJSON *cfg,
			 const char *base)
{
	const struct plugin *p = ctx->plugin;
	const cJSON *it;
	char err[400];
	int errors = 0;

	ctx->values = cJSON_CreateObject();
	cJSON_ArrayForEach (it, cfg) {
		const struct luong_config_field *f = find_field(p, it->string);
		char *val;

		if (!f) {
			char *known = known_fields(p);

			log_error("%s: $.config.%s: unknown setting for plugin "
				  "%s (it takes: %s)",
				  ctx->file, it->string, p->desc->name, known);
			free(known);
			errors++;
			continue;
		}
		val = setting_value(f, it, base, err, sizeof(err));
		if (!val) {
			log_error("%s: $.config.%s: %s", ctx->file, it->string,
				  err);
			errors++;
			continue;
		}
		cJSON_AddStringToObject(ctx->values, f->name, val);
		if (f->type == LUONG_CFG_SECRET)
			memset(val, 0, strlen(val));
		free(val);
	}
	for (const struct luong_config_field *f = p->desc->config; f && f->name;
	     f++) {
		/* given but refused above: one error per setting is enough */
		if (cJSON_GetObjectItemCaseSensitive(ctx->values, f->name) ||
		    cJSON_GetObjectItemCaseSensitive(cfg, f->name))
			continue;
		if (f->flags & LUONG_CFG_REQUIRED) {
			log_error("%s: $.config.%s: missing required setting "
				  "(%s)",
				  ctx->file, f->name,
				  f->description ? f->description : f->name);
			errors++;
		} else if (f->default_value) {
			cJSON_AddStringToObject(ctx->values, f->name,
						f->default_value);
		}
	}
	return errors;
}

static void conn_free(struct luong_ctx *ctx)
{
	free(ctx->name);
	free(ctx->file);
	cJSON_Delete(ctx->values);
	rl_free(ctx->rl);
	free(ctx->last_err);
	pthread_mutex_destroy(&ctx->health_mu);
	pthread_mutex_destroy(&ctx->error_mu);
	pthread_mutex_destroy(&ctx->serial);
	free(ctx);
}

/* Recursive: a serial plugin's webhook running a guard (emit_sync) whose
 * step calls the same connection re-enters on its own thread; a plain
 * mutex would deadlock it (and with it the host's shutdown). */
static void serial_init(pthread_mutex_t *mu)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(mu, &a);
	pthread_mutexattr_destroy(&a);
}

static struct luong_ctx *read_connection(struct runtime *rt, const char *dir,
					 const char *fname, size_t *n_errors)
{
	struct luong_ctx *ctx = xcalloc(1, sizeof(*ctx));
	const cJSON *plugin, *cfg, *it;
	char *text, *base;
	cJSON *root;
	int errors;

	ctx->name = strndup(fname, strlen(fname) - 5);
	ctx->file = util_path_join(dir, fname);
	ctx->rt = rt;
	serial_init(&ctx->serial);
	pthread_mutex_init(&ctx->health_mu, NULL);
	pthread_mutex_init(&ctx->error_mu, NULL);
	text = util_read_file(ctx->file, NULL);
	root = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!cJSON_IsObject(root)) {
		log_error("%s: not a JSON object", ctx->file);
		goto out_fail;
	}
	if (!strcmp(ctx->name, HOST_CONNECTION)) {
		log_error("%s: the name \"%s\" is the host's own connection "
			  "(its document.failed event); rename the file",
			  ctx->file, HOST_CONNECTION);
		goto out_fail;
	}
	cJSON_ArrayForEach (it, root)
		if (strcmp(it->string, "plugin") &&
		    strcmp(it->string, "config") &&
		    strcmp(it->string, "description") &&
		    strcmp(it->string, "rate_limit")) {
			log_error("%s: $.%s: unknown field (expected plugin, "
				  "config, rate_limit, description)",
				  ctx->file, it->string);
			goto out_fail;
		}
	plugin = cJSON_GetObjectItemCaseSensitive(root, "plugin");
	if (!cJSON_IsString(plugin)) {
		log_error("%s: $.plugin: missing plugin name", ctx->file);
		goto out_fail;
	}
	ctx->plugin = loader_find(rt->plugins, plugin->valuestring);
	if (!ctx->plugin) {
		log_error("%s: $.plugin: no plugin \"%s\" is loaded", ctx->file,
			  plugin->valuestring);
		goto out_fail;
	}
	cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
	if (cfg && !cJSON_IsObject(cfg)) {
		log_error("%s: $.config: expected an object", ctx->file);
		goto out_fail;
	}
	base = conf_dirname(ctx->file);
	errors = read_settings(ctx, cfg, base);
	free(base);
	if (conn_rate_limit(ctx, cJSON_GetObjectItemCaseSensitive(root, "rate_"
									"limi"
									"t")))
		errors++;
	if (errors) {
		*n_errors += (size_t)errors;
		cJSON_Delete(root);
		conn_free(ctx);
		return NULL;
	}
	snprintf(ctx->where, sizeof(ctx->where), "[%s:%s]",
		 ctx->plugin->desc->name, ctx->name);
	cJSON_Delete(root);
	return ctx;

out_fail:
	(*n_errors)++;
	cJSON_Delete(root);
	conn_free(ctx);
	return NULL;
}

static cJSON *refused_list(struct runtime *rt)
{
	if (!rt->refused_conns)
		rt->refused_conns = cJSON_CreateArray();
	return rt->refused_conns;
}

/* "misa.json" -> "misa", in a static buffer (read at once). */
static const char *strndup_name(const char *fname)
{
	static __thread char buf[256];
	size_t n = strlen(fname);

	snprintf(buf, sizeof(buf), "%.*s", (int)(n > 5 ? n - 5 : n), fname);
	return buf;
}

int loader_read_connections(struct runtime *rt, const char *dir,
			    size_t *n_errors)
{
	size_t n;
	char **names = list_dir(dir, ".json", &n);

	*n_errors = 0;
	rt->conns = xcalloc(n ? n : 1, sizeof(*rt->conns));
	rt->n_conns = 0;
	for (size_t i = 0; i < n; i++) {
		struct luong_ctx *ctx =
			read_connection(rt, dir, names[i], n_errors);

		if (ctx)
			rt->conns[rt->n_conns++] = ctx;
		else /* so that flows naming it are not told "unknown" */
			cJSON_AddItemToArray(
				refused_list(rt),
				cJSON_CreateString(strndup_name(names[i])));
		free(names[i]);
	}
	free(names);
	return 0;
}

bool loader_init_one(struct runtime *rt, struct luong_ctx *ctx)
{
	enum luong_status st;
	const char *why;

	ctx->state = NULL;
	helpers_fail_clear();
	st = ctx->plugin->desc->init(ctx, &rt->host, &ctx->state);
	if (st != LUONG_OK) {
		why = helpers_fail_reason();
		pthread_mutex_lock(&ctx->error_mu);
		if (why)
			snprintf(ctx->error, sizeof(ctx->error),
				 "init failed: %s", why);
		else
			snprintf(ctx->error, sizeof(ctx->error),
				 "init failed: %s (%d)", luong_status_text(st),
				 st);
		pthread_mutex_unlock(&ctx->error_mu);
		log_error("%s: connection %s (plugin %s %s): %s; the "
			  "connection is not started",
			  ctx->file, ctx->name, ctx->plugin->desc->name,
			  ctx->plugin->desc->version, ctx->error);
		/* the SDK promises fini() after a failed init() */
		ctx->plugin->desc->fini(ctx, ctx->state);
		ctx->state = NULL;
		return false;
	}
	pthread_mutex_lock(&ctx->error_mu);
	ctx->error[0] = '\0';
	pthread_mutex_unlock(&ctx->error_mu);
	ctx->ready = true;
	log_info("connection %s: ready (plugin %s %s)", ctx->name,
		 ctx->plugin->desc->name, ctx->plugin->desc->version);
	return true;
}

void loader_conn_error(struct luong_ctx *ctx, char *buf, size_t len)
{
	pthread_mutex_lock(&ctx->error_mu);
	snprintf(buf, len, "%s", ctx->error);
	pthread_mutex_unlock(&ctx->error_mu);
}

void loader_init_connections(struct runtime *rt)
{
	for (size_t i = 0; i < rt->n_conns; i++)
		loader_init_one(rt, rt->conns[i]);
}

void loader_fini_connections(struct runtime *rt)
{
	for (size_t i = 0; i < rt->n_conns; i++) {
		struct luong_ctx *ctx = rt->conns[i];

		if (ctx->ready)
			ctx->plugin->desc->fini(ctx, ctx->state);
		conn_free(ctx);
	}
	free(rt->conns);
	rt->conns = NULL;
	rt->n_conns = 0;
	cJSON_Delete(rt->refused_conns);
	rt->refused_conns = NULL;
}

struct luong_ctx *loader_connection(struct runtime *rt, const char *name)
{
	for (size_t i = 0; i < rt->n_conns; i++)
		if (!strcmp(rt->conns[i]->name, name))
			return rt->conns[i];
	return NULL;
}

void conn_enter(struct luong_ctx *ctx)
{
	if (ctx->plugin->desc->flags & LUONG_PLUGIN_SERIAL)
		pthread_mutex_lock(&ctx->serial);
}

void conn_leave(struct luong_ctx *ctx)
{
	if (ctx->plugin->desc->flags & LUONG_PLUGIN_SERIAL)
		pthread_mutex_unlock(&ctx->serial);
}
