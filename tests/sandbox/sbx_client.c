/* sbx_client.c - see sbx_client.h. */
#include "sbx_client.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <microhttpd.h>

#ifndef SBX_BINARY
#error "SBX_BINARY must name the luong-sandbox binary"
#endif

void sbxc_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	if (buf)
		buf[fread(buf, 1, 65535, f)] = '\0';
	fclose(f);
	return buf;
}

int sbxc_start(struct sbxc *s, const char *only)
{
	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "/tmp/sbxc.XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	char ports[300];
	snprintf(ports, sizeof ports, "%s/ports.json", s->dir);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *argv[8];
		int n = 0;
		argv[n++] = SBX_BINARY;
		argv[n++] = "--ports-file";
		argv[n++] = ports;
		if (only) {
			argv[n++] = "--only";
			argv[n++] = only;
		}
		argv[n] = NULL;
		execv(SBX_BINARY, (char *const *)argv);
		_exit(127);
	}
	s->pid = pid;
	for (int i = 0; i < 1000; i++) {
		char *text = slurp(ports);
		if (text) {
			s->ports = cJSON_Parse(text);
			free(text);
			if (s->ports)
				return 0;
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			s->pid = 0;
			return -1;
		}
		sbxc_sleep_ms(10);
	}
	sbxc_stop(s);
	return -1;
}

int sbxc_stop(struct sbxc *s)
{
	int rc = 0;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		int st = 0;
		for (int i = 0; i < 1000; i++) {
			pid_t w = waitpid(s->pid, &st, WNOHANG);
			if (w == s->pid)
				break;
			if (i == 999) {
				kill(s->pid, SIGKILL);
				waitpid(s->pid, &st, 0);
			}
			sbxc_sleep_ms(10);
		}
		rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		s->pid = 0;
	}
	char ports[300];
	snprintf(ports, sizeof ports, "%s/ports.json", s->dir);
	unlink(ports);
	rmdir(s->dir);
	cJSON_Delete(s->ports);
	s->ports = NULL;
	return rc;
}

int sbxc_port(const struct sbxc *s, const char *emu)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(s->ports, emu);
	return cJSON_IsNumber(p) ? p->valueint : -1;
}

const char *sbxc_url(const struct sbxc *s, const char *emu, const char *path)
{
	static __thread char ring[8][1024];
	static __thread int next;
	char *b = ring[next++ % 8];
	snprintf(b, sizeof ring[0], "http://127.0.0.1:%d%s", sbxc_port(s, emu),
		 path);
	return b;
}

struct grow {
	char *p;
	size_t n;
};

static size_t on_data(char *d, size_t sz, size_t nm, void *ud)
{
	struct grow *g = ud;
	size_t add = sz * nm;
	char *np = realloc(g->p, g->n + add + 1);
	if (!np)
		return 0;
	memcpy(np + g->n, d, add);
	g->n += add;
	np[g->n] = '\0';
	g->p = np;
	return add;
}

int sbxc_http(const char *method, const char *url, const char *const *headers,
	      const char *body, long timeout_ms, struct sbxc_resp *r)
{
	memset(r, 0, sizeof *r);
	CURL *c = curl_easy_init();
	if (!c)
		return -1;
	struct grow b = { 0 }, h = { 0 };
	struct curl_slist *hl = NULL;
	for (const char *const *p = headers; p && *p; p++)
		hl = curl_slist_append(hl, *p);
	if (body)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 timeout_ms > 0 ? timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	CURLcode rc = curl_easy_perform(c);
	r->curl_code = (int)rc;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
	r->body = b.p ? b.p : calloc(1, 1);
	r->headers = h.p ? h.p : calloc(1, 1);
	r->json = cJSON_Parse(r->body);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

void sbxc_resp_free(struct sbxc_resp *r)
{
	free(r->body);
	free(r->headers);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof *r);
}

char *sbxc_resp_header(const struct sbxc_resp *r, const char *name)
{
	size_t n = strlen(name);
	for (const char *line = r->headers; line && *line;) {
		const char *end = strstr(line, "\r\n");
		if (!end)
			end = line + strlen(line);
		if (!strncasecmp(line, name, n) && line[n] == ':') {
			const char *v = line + n + 1;
			while (*v == ' ')
				v++;
			return strndup(v, (size_t)(end - v));
		}
		line = *end ? end + 2 : end;
	}
	return NULL;
}

cJSON *sbxc_post_json(const char *url, const char *const *headers,
		      const char *body)
{
	struct sbxc_resp r;
	sbxc_http("POST", url, headers, body ? body : "{}", 10000, &r);
	cJSON *j = r.json;
	r.json = NULL;
	sbxc_resp_free(&r);
	return j;
}

cJSON *sbxc_get_json(const char *url)
{
	struct sbxc_resp r;
	sbxc_http("GET", url, NULL, NULL, 10000, &r);
	cJSON *j = r.json;
	r.json = NULL;
	sbxc_resp_free(&r);
	return j;
}

/* ---------------- receiver ---------------- */

struct sbxc_recv {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sbxc_hit *hits;
	int n, cap;
	int status;
};

struct rctx {
	struct grow body;
};

static enum MHD_Result add_hdr(void *cls, enum MHD_ValueKind kind,
			       const char *key, const char *value)
{
	char low[256];
	size_t i;
	for (i = 0; key[i] && i < sizeof low - 1; i++)
		low[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32
							       : key[i]);
	low[i] = '\0';
	cJSON_AddStringToObject(cls, low, value ? value : "");
	return MHD_YES;
}

static enum MHD_Result on_hit(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct sbxc_recv *r = cls;
	struct rctx *c = *con_cls;
	if (!c) {
		c = calloc(1, sizeof *c);
		*con_cls = c;
		return c ? MHD_YES : MHD_NO;
	}
	if (*upload_size) {
		on_data((char *)upload, 1, *upload_size, &c->body);
		*upload_size = 0;
		return MHD_YES;
	}
	struct sbxc_hit hit = { strdup(url), c->body.p ? c->body.p : strdup(""),
				cJSON_CreateObject() };
	c->body.p = NULL;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, add_hdr, hit.headers);
	pthread_mutex_lock(&r->lock);
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->hits = realloc(r->hits, (size_t)r->cap * sizeof *r->hits);
	}
	r->hits[r->n++] = hit;
	int status = r->status;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	static const char ok[] = "{\"Success\":true,\"ErrorCode\":\"\","
				 "\"ErrorMessage\":\"\",\"Data\":null}";
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		sizeof ok - 1, (void *)ok, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct rctx *c = *con_cls;
	if (c) {
		free(c->body.p);
		free(c);
	}
	*con_cls = NULL;
}

struct sbxc_recv *sbxc_recv_start(void)
{
	struct sbxc_recv *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->status = 200;
	r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
				0, NULL, NULL, on_hit, r,
				MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
				MHD_OPTION_END);
	if (!r->d) {
		free(r);
		return NULL;
	}
	return r;
}

int sbxc_recv_port(const struct sbxc_recv *r)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
	return i ? i->port : -1;
}

void sbxc_recv_set_status(struct sbxc_recv *r, int status)
{
	pthread_mutex_lock(&r->lock);
	r->status = status;
	pthread_mutex_unlock(&r->lock);
}

int sbxc_recv_count(struct sbxc_recv *r)
{
	pthread_mutex_lock(&r->lock);
	int n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

int sbxc_recv_wait(struct sbxc_recv *r, int n, long timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->lock);
	while (r->n < n &&
	       pthread_cond_timedwait(&r->cond, &r->lock, &ts) != ETIMEDOUT)
		;
	int got = r->n;
	pthread_mutex_unlock(&r->lock);
	return got;
}

struct sbxc_hit *sbxc_recv_hit(struct sbxc_recv *r, int i)
{
	struct sbxc_hit *h = NULL;
	pthread_mutex_lock(&r->lock);
	if (i >= 0 && i < r->n) {
		h = calloc(1, sizeof *h);
		h->path = strdup(r->hits[i].path);
		h->body = strdup(r->hits[i].body);
		h->headers = cJSON_Duplicate(r->hits[i].headers, true);
	}
	pthread_mutex_unlock(&r->lock);
	return h;
}

void sbxc_hit_free(struct sbxc_hit *h)
{
	if (!h)
		return;
	free(h->path);
	free(h->body);
	cJSON_Delete(h->headers);
	free(h);
}

void sbxc_recv_stop(struct sbxc_recv *r)
{
	if (!r)
		return;
	MHD_stop_daemon(r->d);
	for (int i = 0; i < r->n; i++) {
		free(r->hits[i].path);
		free(r->hits[i].body);
		cJSON_Delete(r->hits[i].headers);
	}
	free(r->hits);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

const char *sbxc_jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double sbxc_jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", k);
	return v->valuedouble;
}

cJSON *sbxc_jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

cJSON *sbxc_act(const struct sbxc *s, const char *emu, const char *name,
		const char *body)
{
	char path[96];
	snprintf(path, sizeof path, "/_sandbox/act/%s", name);
	cJSON *j = sbxc_post_json(sbxc_url(s, emu, path), NULL, body);
	ck_assert_msg(j != NULL, "no json from act %s", name);
	return j;
}

struct sbxc_recv *sbxc_start_hooked(struct sbxc *s, const char *emu,
				    const char *secret)
{
	char body[200];
	ck_assert_int_eq(sbxc_start(s, emu), 0);
	struct sbxc_recv *rx = sbxc_recv_start();
	ck_assert_ptr_nonnull(rx);
	snprintf(body, sizeof body,
		 "{\"url\":\"http://127.0.0.1:%d/hooks/%s\",\"secret\":\"%s\","
		 "\"retry_base_ms\":50}",
		 sbxc_recv_port(rx), emu, secret);
	cJSON_Delete(sbxc_post_json(sbxc_url(s, emu, "/_sandbox/webhooks"),
				    NULL, body));
	return rx;
}

void sbxc_stop_hooked(struct sbxc *s, struct sbxc_recv *rx)
{
	ck_assert_int_eq(sbxc_stop(s), 0);
	sbxc_recv_stop(rx);
}

cJSON *sbxc_act_status(const struct sbxc *s, const char *emu, const char *name,
		       const char *body, long timeout_ms, long *status)
{
	char path[128];
	snprintf(path, sizeof path, "/_sandbox/act/%s", name);
	struct sbxc_resp r;
	const char *h[] = { "Content-Type: application/json", NULL };
	sbxc_http("POST", sbxc_url(s, emu, path), h, body, timeout_ms, &r);
	if (status)
		*status = r.status;
	cJSON *j = r.json ? cJSON_Duplicate(r.json, true) : NULL;
	sbxc_resp_free(&r);
	ck_assert_ptr_nonnull(j);
	return j;
}

void sbxc_control(const struct sbxc *s, const char *emu, const char *path,
		  const char *body)
{
	struct sbxc_resp r;
	const char *h[] = { "Content-Type: application/json", NULL };
	sbxc_http("POST", sbxc_url(s, emu, path), h, body, 5000, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
}

int sbxc_run_suite(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
