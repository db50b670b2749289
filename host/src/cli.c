/* cli.c - `luong flows|docs|doc|push|retry|links|plugins` over the admin
 * API. */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include "cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "i18n.h"
#include "util.h"

struct api_reply {
	long status;
	cJSON *json;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	char **buf = ud;
	size_t old = *buf ? strlen(*buf) : 0, add = size * n;

	*buf = xrealloc(*buf, old + add + 1);
	memcpy(*buf + old, p, add);
	(*buf)[old + add] = '\0';
	return add;
}

static unsigned host_port(const struct conf *c)
{
	char *path, *text;
	unsigned port = c->listen_port;

	if (port)
		return port;
	/* port 0 in the settings: the host wrote what it bound */
	path = util_path_join(c->data_dir, "port");
	text = util_read_file(path, NULL);
	free(path);
	if (text)
		port = (unsigned)strtoul(text, NULL, 10);
	free(text);
	return port;
}

/* Calls the admin API; prints transport errors itself. */
static int api_call(const struct conf *c, const char *method, const char *path,
		    const cJSON *body, struct api_reply *r)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char *url, *auth, *text = NULL, *out = NULL;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	url = xasprintf("http://%s:%u/api%s", c->listen_host, host_port(c),
			path);
	auth = xasprintf("Authorization: Bearer %s", c->admin_token);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (body) {
		text = cJSON_PrintUnformatted(body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		fprintf(stderr,
			_("luong: cannot reach the host at %s: %s (is "
			  "`luong run` running with %s?)\n"),
			url, curl_easy_strerror(rc), c->file);
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		r->json = out ? cJSON_Parse(out) : NULL;
	}
	memset(auth, 0, strlen(auth));
	free(auth);
	free(url);
	free(text);
	free(out);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return rc == CURLE_OK ? 0 : -1;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Prints an error reply; returns the exit code. */
static int report(struct api_reply *r)
{
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(r->json, "errors");
	const cJSON *it;

	if (r->status >= 200 && r->status < 300)
		return 0;
	cJSON_ArrayForEach (it, errs)
		if (cJSON_IsString(it))
			fprintf(stderr, "%s\n", it->valuestring);
	fprintf(stderr, _("luong: %s (HTTP %ld)\n"),
		*jstr(r->json, "error") ? jstr(r->json, "error") : "failed",
		r->status);
	return 1;
}

static void print_json(const cJSON *v)
{
	char *s = cJSON_Print(v);

	puts(s);
	free(s);
}

static int flows_list(const struct conf *c)
{
	struct api_reply r;
	const cJSON *f;
	int rc;

	if (api_call(c, "GET", "/flows", NULL, &r))
		return 1;
	rc = report(&r);
	if (!rc) {
		const char *h[] = { _("FLOW"), _("MODE"), _("TRIGGER") };

		printf("%-*s %-*s %-*s %s\n", util_pad_width(32, h[0]), h[0],
		       util_pad_width(10, h[1]), h[1], util_pad_width(28, h[2]),
		       h[2], _("DOCUMENTS"));
		cJSON_ArrayForEach (f, r.json) {
			const cJSON *t = cJSON_GetObjectItem(f, "trigger");
			const cJSON *d = cJSON_GetObjectItem(f, "documents"),
				    *s;
			char trig[128], docs[256] = "";
			size_t n = 0;

			snprintf(trig, sizeof(trig), "%s.%s",
				 jstr(t, "connection"), jstr(t, "event"));
			cJSON_ArrayForEach (s, d)
				n += (size_t)snprintf(docs + n,
						      sizeof(docs) - n,
						      "%s%s=%.0f", n ? " " : "",
						      s->string,
						      s->valuedouble);
			printf("%-32s %-10s %-28s %s\n", jstr(f, "id"),
			       jstr(f, "mode"), trig, n ? docs : "-");
		}
	}
	cJSON_Delete(r.json);
	return rc;
}

static int simple(const struct conf *c, const char *method, const char *path,
		  cJSON *body, bool print)
{
	struct api_reply r;
	int rc;

	rc = api_call(c, method, path, body, &r);
	cJSON_Delete(body);
	if (rc)
		return 1;
	rc = report(&r);
	if (!rc && print)
		print_json(r.json);
	cJSON_Delete(r.json);
	return rc;
}

/* `luong plugins`: the declarations as tables (cli_plugins.c). */
static int plugins_table(const struct conf *c)
{
	struct api_reply r;
	int rc = api_call(c, "GET", "/plugins", NULL, &r);

	if (rc)
		return 1;
	rc = report(&r);
	if (!rc)
		rc = cli_plugins_print(stdout, r.json);
	cJSON_Delete(r.json);
	return rc;
}

/* A URL-escaped copy (owned, free with free()). */
static char *escape(const char *s)
{
	CURL *h = curl_easy_init();
	char *e = curl_easy_escape(h, s, 0), *copy = xstrdup(e);

	curl_free(e);
	curl_easy_cleanup(h);
	return copy;
}

static char *flow_path(const char *flow, const char *what, const char *id)
{
	char *ef = escape(flow), *ei = id ? escape(id) : NULL, *p;

	p = id ? xasprintf("/flows/%s/%s?id=%s", ef, what, ei)
	       : xasprintf("/flows/%s/%s", ef, what);
	free(ef);
	free(ei);
	return p;
}

/* docs FLOW [--status S] [--after SEQ] [--limit N]; limit 0 prints all. */
struct docs_query {
	const char *flow, *status;
	long long after;
	long limit;
};

#define DOCS_PAGE 1000	 /* rows per request while printing */
#define DOCS_COUNT 10000 /* rows per request while counting the rest */

/* One page of documents after seq `after`: the array in *r, or -1. */
static int docs_page(const struct conf *c, const struct docs_query *q,
		     long long after, long n, struct api_reply *r)
{
	char *base = flow_path(q->flow, "documents", NULL), *es = NULL, *path;
	int rc;

	if (q->status)
		es = escape(q->status);
	path = xasprintf("%s?after=%lld&limit=%ld%s%s", base, after, n,
			 es ? "&status=" : "", es ? es : "");
	free(base);
	free(es);
	rc = api_call(c, "GET", path, NULL, r);
	free(path);
	if (rc)
		return -1;
	if (report(r)) {
		cJSON_Delete(r->json);
		return -1;
	}
	return 0;
}

static void print_doc(const cJSON *d)
{
	const cJSON *t = cJSON_GetObjectItem(d, "target");
	const cJSON *n = cJSON_GetObjectItem(d, "attempts");
	char *ts = !t || cJSON_IsNull(t) ? NULL : cJSON_PrintUnformatted(t);
	const char *reason = jstr(d, "reason");

	printf("%-24s %-8s %-4.0f %s%s\n", jstr(d, "document"),
	       jstr(d, "status"), cJSON_IsNumber(n) ? n->valuedouble : 0,
	       *reason ? reason
	       : ts    ? ts
		       : "",
	       cJSON_IsTrue(cJSON_GetObjectItem(d, "changed_after_sync"))
		       ? _("  [changed after sync]")
		       : "");
	free(ts);
}

static void print_docs_header(void)
{
	const char *h[] = { _("DOCUMENT"), _("STATUS"), _("TRY") };

	printf("%-*s %-*s %-*s %s\n", util_pad_width(24, h[0]), h[0],
	       util_pad_width(8, h[1]), h[1], util_pad_width(4, h[2]), h[2],
	       _("REASON / TARGET"));
}

/* Prints up to q->limit rows (all if 0), page by page, and counts the
 * rest so the user knows what was left out and how to get it. */
static int docs_list(const struct conf *c, const struct docs_query *q)
{
	long long after = q->after, last = q->after, prev;
	long printed = 0, more = 0, pages = 0, want, n;
	struct api_reply r;
	const cJSON *d;

	do {
		want = q->limit && printed >= q->limit ? DOCS_COUNT : DOCS_PAGE;
		prev = after;
		if (docs_page(c, q, after, want, &r))
			return 1;
		if (!pages++) /* the flow exists: the table starts */
			print_docs_header();
		n = 0;
		cJSON_ArrayForEach (d, cJSON_GetObjectItem(r.json, "document"
								   "s")) {
			const cJSON *seq = cJSON_GetObjectItem(d, "seq");

			after = cJSON_IsNumber(seq)
					? (long long)seq->valuedouble
					: after;
			n++;
			if (q->limit && printed >= q->limit) {
				more++;
				continue;
			}
			print_doc(d);
			printed++;
			last = after;
		}
		cJSON_Delete(r.json);
	} while (n == want && after > prev); /* a full page that moved on */
	if (more)
		printf(_("-- %ld more document%s; next page: luong docs %s%s%s "
			 "--after %lld --limit %ld\n"),
		       more, more == 1 ? "" : "s", q->flow,
		       q->status ? " --status " : "",
		       q->status ? q->status : "", last, q->limit);
	return 0;
}

/* A whole decimal number in [min, max], or -1. */
static long long parse_count(const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	return v;
}

static int docs_cmd(const struct conf *c, int argc, char **argv)
{
	struct docs_query q = { .flow = argv[1] };

	for (int i = 2; i < argc; i += 2) {
		const char *opt = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (val && !strcmp(opt, "--status")) {
			q.status = val;
		} else if (val && !strcmp(opt, "--after") &&
			   (q.after = parse_count(val, 0, INT64_MAX)) >= 0) {
			continue;
		} else if (val && !strcmp(opt, "--limit") &&
			   (q.limit = parse_count(val, 1, INT32_MAX)) > 0) {
			continue;
		} else {
			fprintf(stderr,
				_("luong: docs: bad option \"%s\"%s%s; "
				  "expected docs FLOW [--status S] [--after "
				  "SEQ] "
				  "[--limit N] (whole numbers, N > 0)\n"),
				opt, val ? " " : "", val ? val : "");
			return 2;
		}
	}
	return docs_list(c, &q);
}

static double jnum_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* One line of progress: "1234/10000 (12%), 85/s, about 1m45s left". */
static void progress_line(FILE *f, const cJSON *op)
{
	double total = jnum_of(op, "total"), done = jnum_of(op, "done");
	const cJSON *eta = cJSON_GetObjectItemCaseSensitive(op, "eta_s");

	fprintf(f, "%.0f/%.0f (%.0f%%), %.1f/s", done, total,
		total > 0 ? 100.0 * done / total : 100.0,
		jnum_of(op, "rate_per_s"));
	if (cJSON_IsNumber(eta))
		fprintf(f, _(", about %.0fm%02.0fs left"),
			(double)((long)eta->valuedouble / 60),
			(double)((long)eta->valuedouble % 60));
}

/* Follows an operation until it ends: progress on stderr, a summary
 * (synced, failed by reason) on stdout. 0 if nothing failed. */
static int wait_operation(const struct conf *c, const char *flow,
			  const char *id)
{
	char *path = flow_path(flow, "operation", id);
	struct api_reply r = { 0 };
	bool tty = isatty(STDERR_FILENO);
	const cJSON *it;
	int rc;

	for (;;) {
		if ((rc = api_call(c, "GET", path, NULL, &r)) ||
		    (rc = report(&r)))
			break;
		progress_line(stderr, r.json);
		fputs(tty ? "\r" : "\n", stderr);
		if (cJSON_IsTrue(cJSON_GetObjectItem(r.json, "finished")))
			break;
		cJSON_Delete(r.json);
		r.json = NULL;
		usleep(tty ? 500000 : 2000000);
	}
	free(path);
	if (rc) {
		cJSON_Delete(r.json);
		return 1;
	}
	if (tty)
		fputc('\n', stderr);
	printf(_("%s: %.0f synced, %.0f failed of %.0f in %.1f s\n"), id,
	       jnum_of(r.json, "synced"), jnum_of(r.json, "failed"),
	       jnum_of(r.json, "total"), jnum_of(r.json, "elapsed_s"));
	cJSON_ArrayForEach (it, cJSON_GetObjectItem(r.json, "failed_by_reason"))
		printf("  %4.0f  %s\n", it->valuedouble, it->string);
	rc = jnum_of(r.json, "failed") > 0 ? 1 : 0;
	cJSON_Delete(r.json);
	return rc;
}

/* push / retry: FLOW (ID... | --all) [--ignore-warnings] [--wait] */
static int requeue(const struct conf *c, bool retry, int argc, char **argv)
{
	cJSON *body = cJSON_CreateObject(), *docs = NULL;
	struct api_reply r = { 0 };
	bool wait = false;
	char *path;
	int rc;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--wait")) {
			wait = true;
		} else if (!strcmp(argv[i], "--all")) {
			cJSON_AddBoolToObject(body, "all", true);
		} else if (retry && !strcmp(argv[i], "--ignore-warnings")) {
			cJSON_AddBoolToObject(body, "ignore_warnings", true);
		} else {
			if (!docs)
				docs = cJSON_AddArrayToObject(body, "document"
								    "s");
			cJSON_AddItemToArray(docs, cJSON_CreateString(argv[i]));
		}
	}
	if (!docs && !cJSON_GetObjectItem(body, "all")) {
		fprintf(stderr, _("luong: name the documents, or --all\n"));
		cJSON_Delete(body);
		return 2;
	}
	path = flow_path(argv[1], retry ? "retry" : "push", NULL);
	if (!wait) {
		rc = simple(c, "POST", path, body, true);
		free(path);
		return rc;
	}
	rc = api_call(c, "POST", path, body, &r) ? 1 : report(&r);
	free(path);
	cJSON_Delete(body);
	if (!rc) {
		const cJSON *op = cJSON_GetObjectItem(r.json, "operation");

		printf(_("%.0f queued\n"),
		       (double)cJSON_GetArraySize(
			       cJSON_GetObjectItem(r.json, "queued")));
		rc = cJSON_IsString(op)
			     ? wait_operation(c, argv[1], op->valuestring)
			     : 1;
	}
	cJSON_Delete(r.json);
	return rc;
}

/* replay: FLOW --from TIME [--to TIME] */
static int replay(const struct conf *c, int argc, char **argv)
{
	cJSON *body = cJSON_CreateObject();
	char *path;
	int rc;

	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i];

		if ((strcmp(opt, "--from") && strcmp(opt, "--to")) ||
		    i + 1 >= argc) {
			fprintf(stderr,
				_("luong: replay FLOW --from TIME "
				  "[--to TIME]; got \"%s\"\n"),
				opt);
			cJSON_Delete(body);
			return 2;
		}
		cJSON_AddStringToObject(body, opt + 2, argv[++i]);
	}
	if (!cJSON_GetObjectItem(body, "from")) {
		fprintf(stderr, _("luong: replay needs --from TIME, e.g. "
				  "--from \"2026-11-30 08:00\" (Vietnam "
				  "time)\n"));
		cJSON_Delete(body);
		return 2;
	}
	path = flow_path(argv[1], "replay", NULL);
	rc = simple(c, "POST", path, body, true);
	free(path);
	return rc;
}

/* The document of `flows try`: {...} inline, @FILE or - (stdin) as JSON;
 * anything else is the id of a document the host has received. */
static int try_document(const char *arg, cJSON *body)
{
	char *text = NULL;
	cJSON *doc;

	if (arg[0] != '{' && arg[0] != '@' && strcmp(arg, "-")) {
		cJSON_AddStringToObject(body, "id", arg);
		return 0;
	}
	if (arg[0] == '{')
		text = xstrdup(arg);
	else if (arg[0] == '@')
		text = util_read_file(arg + 1, NULL);
	else
		text = util_read_file("/dev/stdin", NULL);
	doc = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!cJSON_IsObject(doc)) {
		fprintf(stderr, _("luong: flows try: %s: %s\n"), arg,
			!text ? _("cannot read it") : _("not a JSON object"));
		cJSON_Delete(doc);
		return -1;
	}
	cJSON_AddItemToObject(body, "document", doc);
	return 0;
}

/* flows try FLOW DOCUMENT [--id ID] [--fetch] [--send] [--wait S]
 * [--json] */
static int try_cmd(const struct conf *c, int argc, char **argv)
{
	cJSON *body = cJSON_CreateObject();
	struct api_reply r;
	bool json = false;
	char *path;
	int rc = 2;

	if (try_document(argv[3], body))
		goto out;
	for (int i = 4; i < argc; i++) {
		const char *opt = argv[i];
		long long w;

		if (!strcmp(opt, "--send")) {
			cJSON_AddBoolToObject(body, "send", true);
		} else if (!strcmp(opt, "--fetch")) {
			cJSON_AddBoolToObject(body, "fetch", true);
		} else if (!strcmp(opt, "--json")) {
			json = true;
		} else if (!strcmp(opt, "--id") && i + 1 < argc) {
			cJSON_DeleteItemFromObject(body, "id");
			cJSON_AddStringToObject(body, "id", argv[++i]);
		} else if (!strcmp(opt, "--wait") && i + 1 < argc &&
			   (w = parse_count(argv[i + 1], 0, 600)) >= 0) {
			cJSON_AddNumberToObject(body, "wait_s", (double)w);
			i++;
		} else {
			fprintf(stderr,
				_("luong: flows try FLOW (ID | {JSON} | "
				  "@FILE | -) [--id ID] [--fetch] [--send] "
				  "[--wait SECONDS] [--json]; got \"%s\"\n"),
				opt);
			goto out;
		}
	}
	path = flow_path(argv[2], "try", NULL);
	rc = api_call(c, "POST", path, body, &r);
	free(path);
	if (rc) {
		rc = 1;
		goto out;
	}
	rc = report(&r);
	if (!rc && json)
		print_json(r.json);
	else if (!rc)
		rc = cli_try_print(stdout, r.json);
	cJSON_Delete(r.json);
out:
	cJSON_Delete(body);
	return rc;
}

/* codes (SPEC | @FILE) [--json]: codes with no match, both ways */
static int codes_cmd(const struct conf *c, int argc, char **argv)
{
	char *text = argv[1][0] == '@' ? util_read_file(argv[1] + 1, NULL)
				       : xstrdup(argv[1]);
	cJSON *body = text ? cJSON_Parse(text) : NULL;
	bool json = argc == 3 && !strcmp(argv[2], "--json");
	struct api_reply r;
	int rc;

	free(text);
	if (!cJSON_IsObject(body) || (argc == 3 && !json)) {
		fprintf(stderr,
			_("luong: codes ({JSON} | @FILE) [--json]: %s\n"),
			cJSON_IsObject(body) ? _("unknown option")
					     : _("not a JSON object"));
		cJSON_Delete(body);
		return 2;
	}
	rc = api_call(c, "POST", "/codes", body, &r) ? 1 : report(&r);
	if (!rc && json)
		print_json(r.json);
	else if (!rc)
		rc = cli_codes_print(stdout, r.json);
	cJSON_Delete(r.json);
	cJSON_Delete(body);
	return rc;
}

/* One end of a link: connection/kind/id (code). */
static const char *end_text(const cJSON *end, char *buf, size_t len)
{
	const char *id = jstr(end, "id"), *code = jstr(end, "code");

	snprintf(buf, len, "%s/%s/%s%s%s%s", jstr(end, "connection"),
		 jstr(end, "kind"), *id ? id : "-", *code ? " (" : "", code,
		 *code ? ")" : "");
	return buf;
}

/* links [--connection C] [--kind K] [--id ID] [--flow F] [--after SEQ]
 * [--limit N]: one page of record links. */
static int links_cmd(const struct conf *c, int argc, char **argv)
{
	static const char *const opts[] = { "connection", "kind",  "id",
					    "flow",	  "after", "limit" };
	char *path = xstrdup("/links?"), *next, src[256], dst[256];
	struct api_reply r;
	const cJSON *l;
	int rc = 2, n = 0;
	long long last = 0;

	for (int i = 1; i < argc; i += 2) {
		size_t k = 0;

		while (k < ARRAY_SIZE(opts) && (strncmp(argv[i], "--", 2) ||
						strcmp(argv[i] + 2, opts[k])))
			k++;
		if (k == ARRAY_SIZE(opts) || i + 1 >= argc) {
			fprintf(stderr,
				_("luong: links: bad option \"%s\"; "
				  "expected links [--connection C] [--kind K] "
				  "[--id ID] [--flow F] [--after SEQ] "
				  "[--limit N]\n"),
				argv[i]);
			goto out;
		}
		{
			char *e = escape(argv[i + 1]);

			next = xasprintf("%s%s=%s&", path, opts[k], e);
			free(e);
			free(path);
			path = next;
		}
	}
	rc = 1;
	if (api_call(c, "GET", path, NULL, &r))
		goto out;
	if (report(&r))
		goto out_reply;
	{
		const char *h[] = { _("SEQ"), _("SOURCE"), _("TARGET"),
				    _("STATE") };

		printf("%-*s %-*s %-*s %-*s %s\n", util_pad_width(6, h[0]),
		       h[0], util_pad_width(36, h[1]), h[1],
		       util_pad_width(44, h[2]), h[2], util_pad_width(8, h[3]),
		       h[3], _("FLOW / DOCUMENT"));
	}
	cJSON_ArrayForEach (l, cJSON_GetObjectItem(r.json, "links")) {
		last = (long long)cJSON_GetNumberValue(
			cJSON_GetObjectItem(l, "seq"));
		printf("%-6lld %-36s %-44s %-8s %s / %s\n", last,
		       end_text(cJSON_GetObjectItem(l, "source"), src,
				sizeof(src)),
		       end_text(cJSON_GetObjectItem(l, "target"), dst,
				sizeof(dst)),
		       jstr(l, "state"), jstr(l, "flow"), jstr(l, "document"));
		n++;
	}
	if (!n)
		printf(_("(no links)\n"));
	else
		printf(_("-- %d link%s; the next ones: --after %lld\n"), n,
		       n == 1 ? "" : "s", last);
	rc = 0;
out_reply:
	cJSON_Delete(r.json);
out:
	free(path);
	return rc;
}

int cli_api(const struct conf *c, const char *method, const char *path,
	    const cJSON *body, long *status, cJSON **json)
{
	struct api_reply r;

	if (api_call(c, method, path, body, &r))
		return -1;
	*status = r.status;
	*json = r.json;
	return 0;
}

int cli_main(const struct conf *c, int argc, char **argv)
{
	const char *cmd = argv[0];
	char *path;
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!strcmp(cmd, "flows") && argc == 2 && !strcmp(argv[1], "list")) {
		rc = flows_list(c);
	} else if (!strcmp(cmd, "flows") && argc == 2 &&
		   !strcmp(argv[1], "reload")) {
		rc = simple(c, "POST", "/flows/reload", NULL, false);
		if (!rc)
			printf(_("flows reloaded\n"));
	} else if (!strcmp(cmd, "flows") && argc == 4 &&
		   !strcmp(argv[1], "mode")) {
		cJSON *body = cJSON_CreateObject();

		cJSON_AddStringToObject(body, "mode", argv[3]);
		path = flow_path(argv[2], "mode", NULL);
		rc = simple(c, "PUT", path, body, false);
		free(path);
		if (!rc)
			printf("%s: %s\n", argv[2], argv[3]);
	} else if (!strcmp(cmd, "flows") && argc >= 4 &&
		   !strcmp(argv[1], "try")) {
		rc = try_cmd(c, argc, argv);
	} else if (!strcmp(cmd, "docs") && argc >= 2) {
		rc = docs_cmd(c, argc, argv);
	} else if (!strcmp(cmd, "doc") && argc == 3) {
		path = flow_path(argv[1], "document", argv[2]);
		rc = simple(c, "GET", path, NULL, true);
		free(path);
	} else if ((!strcmp(cmd, "push") || !strcmp(cmd, "retry")) &&
		   argc >= 2) {
		rc = requeue(c, !strcmp(cmd, "retry"), argc, argv);
	} else if (!strcmp(cmd, "replay") && argc >= 2) {
		rc = replay(c, argc, argv);
	} else if (!strcmp(cmd, "codes") && (argc == 2 || argc == 3)) {
		rc = codes_cmd(c, argc, argv);
	} else if (!strcmp(cmd, "connect") && argc >= 2) {
		rc = cli_connect(c, argc, argv);
	} else if (!strcmp(cmd, "links")) {
		rc = links_cmd(c, argc, argv);
	} else if (!strcmp(cmd, "plugins") && argc == 1) {
		rc = plugins_table(c);
	} else if (!strcmp(cmd, "plugins") && argc == 2 &&
		   !strcmp(argv[1], "--json")) {
		rc = simple(c, "GET", "/plugins", NULL, true);
	} else {
		fprintf(stderr, _("luong: unknown command or arguments; see "
				  "`luong --help`\n"));
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
