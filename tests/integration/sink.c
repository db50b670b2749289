/* sink.c - the test target; see sink.h. */
#define _GNU_SOURCE
#include "sink.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

#define KEY_BUCKETS 8192

struct key_node {
	char *key;
	int count;
	struct key_node *next;
};

struct cb_item {
	char *key;
	struct cb_item *next;
};

/* One delivery as received (kept compact: the bench sends many). */
struct record {
	char *key;
	long long at_ms;
	const char *answer;
	char *body;   /* what was delivered */
	char *update; /* X-Update-Of: what an update replaces, or NULL */
};

struct feed_item {
	char *json;
	struct feed_item *next;
};

struct sink {
	struct MHD_Daemon *d;
	unsigned port;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum sink_mode mode;
	int mode_left, retry_after, delay_ms;
	int total, effects, serial;
	struct key_node *keys[KEY_BUCKETS];
	struct record *recs;
	size_t n_recs, cap_recs;
	double *lat;
	size_t n_lat, cap_lat;
	struct feed_item *feed, *feed_tail;
	int n_feed;
	bool feed_full; /* every poll lists every item (a full pull) */
	/* callbacks */
	char *cb_url;
	int cb_delay_ms;
	struct cb_item *cb_head, *cb_tail;
	bool stopping;
	pthread_t cb_thread;
};

struct body {
	char *data;
	size_t len;
};

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Counts a key; returns how often it was seen before. Holds mu. */
static int key_seen(struct sink *s, const char *key)
{
	struct key_node **b = &s->keys[hash(key) % KEY_BUCKETS], *n;

	for (n = *b; n; n = n->next)
		if (!strcmp(n->key, key))
			return n->count++;
	n = calloc(1, sizeof(*n));
	n->key = strdup(key);
	n->count = 1;
	n->next = *b;
	*b = n;
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
			     const char *body, const char *retry_after)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	if (retry_after)
		MHD_add_response_header(r, "Retry-After", retry_after);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result deliver(struct sink *s, struct MHD_Connection *c,
			       struct body *b)
{
	const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      "Idempotency-Key");
	enum sink_mode mode;
	char out[160], ra[16];
	int first, delay, id;
	struct record *rec;
	const char *sent, *upd, *tid;

	pthread_mutex_lock(&s->mu);
	delay = s->delay_ms;
	mode = s->mode;
	if (s->mode_left > 0 && --s->mode_left == 0)
		s->mode = SINK_OK;
	snprintf(ra, sizeof(ra), "%d", s->retry_after);
	pthread_mutex_unlock(&s->mu);
	if (delay)
		usleep((useconds_t)delay * 1000);
	pthread_mutex_lock(&s->mu);
	s->total++;
	if (s->n_recs == s->cap_recs) {
		s->cap_recs = s->cap_recs ? s->cap_recs * 2 : 1024;
		s->recs = realloc(s->recs, s->cap_recs * sizeof(*s->recs));
	}
	rec = &s->recs[s->n_recs++];
	rec->key = strdup(key ? key : "");
	rec->body = strdup(b->data ? b->data : "");
	upd = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Update-Of");
	rec->update = upd ? strdup(upd) : NULL;
	rec->at_ms = now_us() / 1000;
	rec->answer = mode == SINK_OK	   ? "ok"
		      : mode == SINK_ASYNC ? "accepted"
					   : "refused";
	first = 0;
	id = 0;
	if (mode == SINK_OK || mode == SINK_ASYNC) {
		/* only an accepted request is an effect */
		first = key ? key_seen(s, key) == 0 : 1;
		if (first)
			s->effects++;
		id = ++s->serial;
		/* a plain scan: parsing every body costs the bench too much */
		sent = b->data ? strstr(b->data, "\"sent_us\":") : NULL;
		if (first && sent && sent[10] >= '0' && sent[10] <= '9') {
			if (s->n_lat == s->cap_lat) {
				s->cap_lat = s->cap_lat ? s->cap_lat * 2 : 1024;
				s->lat = realloc(s->lat,
						 s->cap_lat * sizeof(*s->lat));
			}
			s->lat[s->n_lat++] =
				((double)now_us() - atof(sent + 10)) / 1000.0;
		}
	}
	if (mode == SINK_ASYNC && key && s->cb_url) {
		struct cb_item *it = calloc(1, sizeof(*it));

		it->key = strdup(key);
		if (s->cb_tail)
			s->cb_tail->next = it;
		else
			s->cb_head = it;
		s->cb_tail = it;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	switch (mode) {
	case SINK_OK:
		/* an update names its record ("target_id"): its id stays */
		tid = b->data ? strstr(b->data, "\"target_id\":\"") : NULL;
		if (tid)
			snprintf(out, sizeof(out),
				 "{\"id\":\"%.*s\",\"duplicate\""
				 ":%s}",
				 (int)strcspn(tid + 13, "\""), tid + 13,
				 first ? "false" : "true");
		else
			snprintf(out, sizeof(out),
				 "{\"id\":\"T%d\",\"duplicate"
				 "\":%s}",
				 id, first ? "false" : "true");
		return reply(c, 200, out, NULL);
	case SINK_ASYNC: return reply(c, 202, "{\"accepted\":true}", NULL);
	case SINK_REFUSE:
		return reply(c, 422,
			     "{\"error\":\"mã hàng không tồn tại "
			     "(unknown item code)\"}",
			     NULL);
	case SINK_UNAVAILABLE:
		return reply(c, 503, "{\"error\":\"unavailable\"}", NULL);
	case SINK_THROTTLE:
		return reply(c, 429, "{\"error\":\"too many requests\"}", ra);
	}
	return MHD_NO;
}

static enum MHD_Result feed(struct sink *s, struct MHD_Connection *c)
{
	const char *after =
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
	int from = after && *after ? atoi(after) : 0, i = 0;
	cJSON *o = cJSON_CreateObject(), *items;
	enum MHD_Result ret;
	char next[16], *text;

	items = cJSON_AddArrayToObject(o, "items");
	pthread_mutex_lock(&s->mu);
	if (s->feed_full)
		from = 0;
	for (struct feed_item *f = s->feed; f; f = f->next, i++)
		if (i >= from)
			cJSON_AddItemToArray(items, cJSON_Parse(f->json));
	snprintf(next, sizeof(next), "%d", s->feed_full ? 0 : s->n_feed);
	pthread_mutex_unlock(&s->mu);
	cJSON_AddStringToObject(o, "next", next);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	ret = reply(c, 200, text, NULL);
	free(text);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct sink *s = cls;
	struct body *b = *con_cls;

	if (!b) {
		*con_cls = calloc(1, sizeof(struct body));
		return MHD_YES;
	}
	if (*upload_size) {
		b->data = realloc(b->data, b->len + *upload_size + 1);
		memcpy(b->data + b->len, upload, *upload_size);
		b->len += *upload_size;
		b->data[b->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/deliver") && !strcmp(method, "POST"))
		return deliver(s, c, b);
	if (!strcmp(url, "/feed"))
		return feed(s, c);
	if (!strcmp(url, "/_stats")) {
		char out[200];
		double p50, p99;
		int n;

		sink_latency(s, &p50, &p99, &n);
		pthread_mutex_lock(&s->mu);
		snprintf(out, sizeof(out),
			 "{\"total\":%d,\"effects\":%d,"
			 "\"latency_n\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f}",
			 s->total, s->effects, n, p50, p99);
		pthread_mutex_unlock(&s->mu);
		return reply(c, 200, out, NULL);
	}
	if (!strcmp(url, "/_reset")) {
		sink_reset(s);
		return reply(c, 200, "{}", NULL);
	}
	return reply(c, 404, "{\"error\":\"no such path\"}", NULL);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct body *b = *con_cls;

	if (b) {
		free(b->data);
		free(b);
	}
	*con_cls = NULL;
}

/* Posts results of accepted (202) deliveries, like MISA's callback. */
static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	return size * n;
}

static void *callback_main(void *arg)
{
	struct sink *s = arg;
	CURL *h = curl_easy_init();

	for (;;) {
		struct cb_item *it;
		char body[512], *url;
		int delay;

		pthread_mutex_lock(&s->mu);
		while (!s->cb_head && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stopping) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		it = s->cb_head;
		s->cb_head = it->next;
		if (!s->cb_head)
			s->cb_tail = NULL;
		url = strdup(s->cb_url);
		delay = s->cb_delay_ms;
		pthread_mutex_unlock(&s->mu);
		if (delay)
			usleep((useconds_t)delay * 1000);
		snprintf(body, sizeof(body),
			 "{\"key\":\"%s\",\"ok\":true,"
			 "\"output\":{\"id\":\"A-%s\"}}",
			 it->key, it->key);
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_perform(h);
		free(url);
		free(it->key);
		free(it);
	}
	curl_easy_cleanup(h);
	return NULL;
}

struct sink *sink_start(unsigned port)
{
	struct sink *s = calloc(1, sizeof(*s));
	const union MHD_DaemonInfo *info;

	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->retry_after = 1;
	/* a pool of threads on epoll; 16 so held (delayed) answers in the
	 * tests do not stall the others */
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
				(uint16_t)port, NULL, NULL, on_request, s,
				MHD_OPTION_THREAD_POOL_SIZE, 16u,
				MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
				MHD_OPTION_CONNECTION_LIMIT, 2000u,
				MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
				MHD_OPTION_END);
	if (!s->d) {
		free(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info->port;
	pthread_create(&s->cb_thread, NULL, callback_main, s);
	return s;
}

unsigned sink_port(const struct sink *s)
{
	return s->port;
}

void sink_reset(struct sink *s)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < KEY_BUCKETS; i++)
		while (s->keys[i]) {
			struct key_node *n = s->keys[i];

			s->keys[i] = n->next;
			free(n->key);
			free(n);
		}
	for (size_t i = 0; i < s->n_recs; i++) {
		free(s->recs[i].key);
		free(s->recs[i].body);
		free(s->recs[i].update);
	}
	s->n_recs = 0;
	s->total = s->effects = 0;
	s->n_lat = 0;
	pthread_mutex_unlock(&s->mu);
}

void sink_stop(struct sink *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->cb_thread, NULL);
	sink_reset(s);
	while (s->cb_head) {
		struct cb_item *it = s->cb_head;

		s->cb_head = it->next;
		free(it->key);
		free(it);
	}
	while (s->feed) {
		struct feed_item *f = s->feed;

		s->feed = f->next;
		free(f->json);
		free(f);
	}
	free(s->recs);
	free(s->lat);
	free(s->cb_url);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

void sink_set_mode(struct sink *s, enum sink_mode mode, int count,
		   int retry_after_s)
{
	pthread_mutex_lock(&s->mu);
	s->mode = mode;
	s->mode_left = count;
	s->retry_after = retry_after_s;
	pthread_mutex_unlock(&s->mu);
}

void sink_set_delay(struct sink *s, int delay_ms)
{
	pthread_mutex_lock(&s->mu);
	s->delay_ms = delay_ms;
	pthread_mutex_unlock(&s->mu);
}

void sink_set_callback(struct sink *s, const char *url, int delay_ms)
{
	pthread_mutex_lock(&s->mu);
	free(s->cb_url);
	s->cb_url = strdup(url);
	s->cb_delay_ms = delay_ms;
	pthread_mutex_unlock(&s->mu);
}

int sink_total(struct sink *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->total;
	pthread_mutex_unlock(&s->mu);
	return n;
}

int sink_effects(struct sink *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->effects;
	pthread_mutex_unlock(&s->mu);
	return n;
}

int sink_key_count(struct sink *s, const char *key)
{
	int n = 0;

	pthread_mutex_lock(&s->mu);
	for (struct key_node *k = s->keys[hash(key) % KEY_BUCKETS]; k;
	     k = k->next)
		if (!strcmp(k->key, key))
			n = k->count;
	pthread_mutex_unlock(&s->mu);
	return n;
}

int sink_wait_effects(struct sink *s, int n, long timeout_ms)
{
	struct timespec ts;
	int got;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->mu);
	while (s->effects < n &&
	       pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0)
		;
	got = s->effects;
	pthread_mutex_unlock(&s->mu);
	return got;
}

cJSON *sink_requests(struct sink *s)
{
	cJSON *arr = cJSON_CreateArray();

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n_recs; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "key", s->recs[i].key);
		cJSON_AddNumberToObject(o, "at_ms", (double)s->recs[i].at_ms);
		cJSON_AddStringToObject(o, "answer", s->recs[i].answer);
		cJSON_AddStringToObject(o, "body", s->recs[i].body);
		if (s->recs[i].update)
			cJSON_AddStringToObject(o, "update_of",
						s->recs[i].update);
		cJSON_AddItemToArray(arr, o);
	}
	pthread_mutex_unlock(&s->mu);
	return arr;
}

void sink_feed_add(struct sink *s, const char *id, const char *json_extra)
{
	struct feed_item *f = calloc(1, sizeof(*f));

	if (asprintf(&f->json, "{\"id\":\"%s\"%s%s}", id, json_extra ? "," : "",
		     json_extra ? json_extra : "") < 0)
		abort();
	pthread_mutex_lock(&s->mu);
	if (s->feed_tail)
		s->feed_tail->next = f;
	else
		s->feed = f;
	s->feed_tail = f;
	s->n_feed++;
	pthread_mutex_unlock(&s->mu);
}

void sink_feed_full(struct sink *s, bool full)
{
	pthread_mutex_lock(&s->mu);
	s->feed_full = full;
	pthread_mutex_unlock(&s->mu);
}

void sink_feed_put(struct sink *s, const char *id, const char *json_extra)
{
	char *json, prefix[128];
	struct feed_item *f;

	if (asprintf(&json, "{\"id\":\"%s\"%s%s}", id, json_extra ? "," : "",
		     json_extra ? json_extra : "") < 0)
		abort();
	snprintf(prefix, sizeof(prefix), "{\"id\":\"%s\"", id);
	pthread_mutex_lock(&s->mu);
	for (f = s->feed; f; f = f->next)
		if (!strncmp(f->json, prefix, strlen(prefix)) &&
		    strchr(",}", f->json[strlen(prefix)])) {
			free(f->json);
			f->json = json;
			break;
		}
	pthread_mutex_unlock(&s->mu);
	if (!f) {
		sink_feed_add(s, id, json_extra);
		free(json);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void sink_latency(struct sink *s, double *p50, double *p99, int *n)
{
	double *copy;
	size_t k;

	pthread_mutex_lock(&s->mu);
	k = s->n_lat;
	copy = malloc((k ? k : 1) * sizeof(*copy));
	memcpy(copy, s->lat, k * sizeof(*copy));
	pthread_mutex_unlock(&s->mu);
	qsort(copy, k, sizeof(*copy), cmp_double);
	*n = (int)k;
	*p50 = k ? copy[k / 2] : 0;
	*p99 = k ? copy[(k * 99) / 100 < k ? (k * 99) / 100 : k - 1] : 0;
	free(copy);
}
