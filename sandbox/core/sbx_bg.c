/* sbx_bg.c - background work: the timer thread (emulator timers, fault
 * resumes, down/up windows) and the webhook delivery thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "sbx_int.h"

/* ---------------- timers ---------------- */

enum tkind { T_EMU, T_RAW, T_RESUME };

struct timer {
	struct timer *next;
	int64_t due;
	enum tkind kind;
	struct sbx_emu *emu;
	unsigned generation;
	sbx_timer_fn fn;
	void (*raw)(void *);
	void *arg;
	struct MHD_Connection *conn;
};

static pthread_mutex_t t_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t t_cond;
static struct timer *t_head;
static bool t_stop;
static pthread_t t_thread;

static void timer_insert(struct timer *t)
{
	pthread_mutex_lock(&t_lock);
	struct timer **pp = &t_head;
	while (*pp && (*pp)->due <= t->due)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	pthread_cond_signal(&t_cond);
	pthread_mutex_unlock(&t_lock);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void timer_fire(struct timer *t, bool cancel)
{
	switch (t->kind) {
	case T_EMU:
		pthread_mutex_lock(&t->emu->priv->lock);
		t->fn(t->emu, t->arg,
		      cancel || t->generation != t->emu->priv->generation);
		pthread_mutex_unlock(&t->emu->priv->lock);
		break;
	case T_RAW:
		if (!cancel)
			t->raw(t->arg);
		break;
	case T_RESUME: MHD_resume_connection(t->conn); break;
	}
	free(t);
}

static void *timer_main(void *unused)
{
	pthread_mutex_lock(&t_lock);
	while (!t_stop) {
		if (!t_head) {
			pthread_cond_wait(&t_cond, &t_lock);
			continue;
		}
		int64_t now = mono_ms();
		if (t_head->due > now) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			int64_t wait = t_head->due - now;
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&t_cond, &t_lock, &ts);
			continue;
		}
		struct timer *t = t_head;
		t_head = t->next;
		pthread_mutex_unlock(&t_lock);
		timer_fire(t, false);
		pthread_mutex_lock(&t_lock);
	}
	pthread_mutex_unlock(&t_lock);
	return NULL;
}

void sbx_after(struct sbx_emu *emu, long ms, sbx_timer_fn fn, void *arg)
{
	struct timer *t = calloc(1, sizeof *t);
	if (!t) {
		fn(emu, arg, true);
		return;
	}
	t->due = mono_ms() + (ms > 0 ? ms : 0);
	t->kind = T_EMU;
	t->emu = emu;
	t->generation = emu->priv->generation;
	t->fn = fn;
	t->arg = arg;
	timer_insert(t);
}

void sbx_after_raw(long ms, void (*fn)(void *arg), void *arg)
{
	struct timer *t = calloc(1, sizeof *t);
	if (!t)
		return;
	t->due = mono_ms() + (ms > 0 ? ms : 0);
	t->kind = T_RAW;
	t->raw = fn;
	t->arg = arg;
	timer_insert(t);
}

void sbx_resume_after(struct sbx_emu *emu, struct MHD_Connection *conn, long ms)
{
	struct timer *t = calloc(1, sizeof *t);
	if (!t) {
		MHD_resume_connection(conn);
		return;
	}
	t->due = mono_ms() + (ms > 0 ? ms : 0);
	t->kind = T_RESUME;
	t->emu = emu;
	t->conn = conn;
	timer_insert(t);
}

void sbx_resume_all(struct sbx_emu *emu)
{
	struct timer *list = NULL;
	pthread_mutex_lock(&t_lock);
	for (struct timer **pp = &t_head; *pp;) {
		struct timer *t = *pp;
		if (t->kind == T_RESUME && t->emu == emu) {
			*pp = t->next;
			t->next = list;
			list = t;
		} else {
			pp = &t->next;
		}
	}
	pthread_mutex_unlock(&t_lock);
	while (list) {
		struct timer *t = list;
		list = t->next;
		timer_fire(t, false);
	}
}

void sbx_bg_stop_timers(void)
{
	pthread_mutex_lock(&t_lock);
	t_stop = true;
	pthread_cond_signal(&t_cond);
	pthread_mutex_unlock(&t_lock);
	pthread_join(t_thread, NULL);
	/* Cancelled emulator timers still run so they can free their arg; a
     * cancelled timer may queue nothing, so the list only shrinks. */
	for (;;) {
		pthread_mutex_lock(&t_lock);
		struct timer *t = t_head;
		if (t)
			t_head = t->next;
		pthread_mutex_unlock(&t_lock);
		if (!t)
			break;
		timer_fire(t, true);
	}
}

/* ---------------- webhook deliveries ---------------- */

struct delivery {
	struct delivery *next;
	int64_t due;
	long id;
	struct sbx_emu *emu;
	char *topic;
	char *url;
	char *body;
	size_t len;
	struct curl_slist *headers;
	int attempt;
	int max_attempts;
	long base_ms;
	bool duplicate; /* deliver a second copy after success */
	bool is_copy;
	sbx_hook_done_fn done;
	void *arg;
};

static pthread_mutex_t d_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t d_cond;
static struct delivery *d_head;
static bool d_stop, d_stopped;
static pthread_t d_thread;
static long d_next_id;

static void delivery_free(struct delivery *d)
{
	free(d->topic);
	free(d->url);
	free(d->body);
	curl_slist_free_all(d->headers);
	free(d);
}

static void delivery_insert_locked(struct delivery *d)
{
	struct delivery **pp = &d_head;
	while (*pp && (*pp)->due <= d->due)
		pp = &(*pp)->next;
	d->next = *pp;
	*pp = d;
	pthread_cond_signal(&d_cond);
}

struct buf {
	char *p;
	size_t n;
};

static size_t on_body(char *data, size_t sz, size_t nm, void *ud)
{
	struct buf *b = ud;
	size_t add = sz * nm;
	if (b->n + add > (1u << 20))
		return 0; /* a receiver's answer is never that big */
	char *np = realloc(b->p, b->n + add + 1);
	if (!np)
		return 0;
	memcpy(np + b->n, data, add);
	b->n += add;
	np[b->n] = '\0';
	b->p = np;
	return add;
}

static long http_post(CURL *c, const char *url, struct curl_slist *headers,
		      const char *body, size_t len, long timeout_ms,
		      char **answer, char *err, size_t errlen)
{
	struct buf b = { 0 };
	char ebuf[CURL_ERROR_SIZE] = "";
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout_ms < 2000 ? timeout_ms : 2000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	} else if (err) {
		snprintf(err, errlen, "%s",
			 ebuf[0] ? ebuf : curl_easy_strerror(rc));
	}
	if (answer)
		*answer = b.p;
	else
		free(b.p);
	return status;
}

static void record_attempt(struct delivery *d, long status, const char *err,
			   bool delivered, bool gave_up)
{
	char ts[40];
	sbx_time_vn(sbx_now_ms(), SBX_TIME_ISO, ts, sizeof ts);
	cJSON *e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "id", (double)d->id);
	cJSON_AddStringToObject(e, "topic", d->topic);
	cJSON_AddStringToObject(e, "url", d->url ? d->url : "");
	cJSON_AddNumberToObject(e, "attempt", d->attempt);
	cJSON_AddNumberToObject(e, "status", (double)status);
	if (err && *err)
		cJSON_AddStringToObject(e, "error", err);
	cJSON_AddBoolToObject(e, "delivered", delivered);
	cJSON_AddBoolToObject(e, "gave_up", gave_up);
	cJSON_AddBoolToObject(e, "copy", d->is_copy);
	cJSON_AddStringToObject(e, "time", ts);
	cJSON_AddItemToObject(e, "body", cJSON_CreateString(d->body));
	sbx_record_delivery(d->emu, e);
}

/* Completion with the emulator lock held; consumes d. */
static void finish(struct delivery *d, bool delivered, long status,
		   const char *answer)
{
	if (d->done && !d->is_copy)
		d->done(d->emu, d->arg, delivered, status, answer);
	delivery_free(d);
}

static void attempt(CURL *c, struct delivery *d)
{
	char err[CURL_ERROR_SIZE] = "";
	char *answer = NULL;
	long status = 0;
	d->attempt++;
	if (!d->url)
		snprintf(err, sizeof err, "no webhook url registered");
	else
		status = http_post(c, d->url, d->headers, d->body, d->len, 5000,
				   &answer, err, sizeof err);
	bool ok = status >= 200 && status < 300;
	bool give_up = !ok && (d->attempt >= d->max_attempts || !d->url);
	struct sbx_emu *emu = d->emu;
	pthread_mutex_lock(&emu->priv->lock);
	record_attempt(d, status, err, ok, give_up);
	if (ok && d->duplicate && !d->is_copy) {
		/* the copy goes out right after; completion reports the original */
		struct delivery *copy = calloc(1, sizeof *copy);
		if (copy) {
			*copy = *d;
			copy->topic = strdup(d->topic);
			copy->url = strdup(d->url);
			copy->body = malloc(d->len + 1);
			copy->headers = NULL;
			for (struct curl_slist *h = d->headers; h; h = h->next)
				copy->headers = curl_slist_append(copy->headers,
								  h->data);
			if (copy->body)
				memcpy(copy->body, d->body, d->len + 1);
			copy->is_copy = true;
			copy->attempt = 0;
			copy->due = mono_ms();
			pthread_mutex_lock(&d_lock);
			copy->id = ++d_next_id;
			delivery_insert_locked(copy);
			pthread_mutex_unlock(&d_lock);
		}
	}
	if (ok || give_up) {
		finish(d, ok, status, answer);
	} else {
		long back = d->base_ms;
		for (int i = 1; i < d->attempt && back < 5000; i++)
			back *= 2;
		d->due = mono_ms() + (back < 5000 ? back : 5000);
		pthread_mutex_lock(&d_lock);
		delivery_insert_locked(d);
		pthread_mutex_unlock(&d_lock);
	}
	pthread_mutex_unlock(&emu->priv->lock);
	free(answer);
}

static void *delivery_main(void *unused)
{
	CURL *c = curl_easy_init();
	pthread_mutex_lock(&d_lock);
	while (!d_stop) {
		if (!d_head) {
			pthread_cond_wait(&d_cond, &d_lock);
			continue;
		}
		int64_t now = mono_ms();
		if (d_head->due > now) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			int64_t wait = d_head->due - now;
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&d_cond, &d_lock, &ts);
			continue;
		}
		struct delivery *d = d_head;
		d_head = d->next;
		pthread_mutex_unlock(&d_lock);
		if (c)
			attempt(c, d);
		pthread_mutex_lock(&d_lock);
	}
	pthread_mutex_unlock(&d_lock);
	curl_easy_cleanup(c);
	return NULL;
}

long sbx_webhook_post(struct sbx_emu *emu, const struct sbx_hook *hook)
{
	struct sbx_emu_priv *p = emu->priv;
	struct delivery *d = calloc(1, sizeof *d);
	if (!d)
		goto out_fail;
	const char *url = hook->url ? hook->url : p->hook_url;
	d->emu = emu;
	d->topic = strdup(hook->topic ? hook->topic : "event");
	d->url = url ? strdup(url) : NULL;
	d->body = malloc(hook->body_len + 1);
	if (!d->topic || (url && !d->url) || !d->body)
		goto out_free_d;
	memcpy(d->body, hook->body, hook->body_len);
	d->body[hook->body_len] = '\0';
	d->len = hook->body_len;
	for (const char *const *h = hook->headers; h && *h; h++)
		d->headers = curl_slist_append(d->headers, *h);
	d->max_attempts = p->hook_max_attempts > 0 ? p->hook_max_attempts : 20;
	d->base_ms = p->hook_retry_base_ms > 0 ? p->hook_retry_base_ms : 200;
	d->duplicate = p->hook_duplicate;
	d->done = hook->done;
	d->arg = hook->arg;
	d->due = mono_ms();
	pthread_mutex_lock(&d_lock);
	if (d_stopped) {
		pthread_mutex_unlock(&d_lock);
		finish(d, false, 0, NULL); /* lock held by our caller */
		return -1;
	}
	d->id = ++d_next_id;
	long id = d->id;
	delivery_insert_locked(d);
	pthread_mutex_unlock(&d_lock);
	return id;
out_free_d:
	delivery_free(d);
out_fail:
	if (hook->done)
		hook->done(emu, hook->arg, false, 0, NULL);
	return -1;
}

void sbx_bg_stop_deliveries(void)
{
	pthread_mutex_lock(&d_lock);
	d_stop = true;
	pthread_cond_signal(&d_cond);
	pthread_mutex_unlock(&d_lock);
	pthread_join(d_thread, NULL);
	pthread_mutex_lock(&d_lock);
	d_stopped = true;
	struct delivery *list = d_head;
	d_head = NULL;
	pthread_mutex_unlock(&d_lock);
	while (list) {
		struct delivery *d = list;
		list = d->next;
		struct sbx_emu *emu = d->emu;
		pthread_mutex_lock(&emu->priv->lock);
		finish(d, false, 0, NULL);
		pthread_mutex_unlock(&emu->priv->lock);
	}
}

int sbx_ask(const char *url, const char *const *headers, const char *body,
	    size_t len, long timeout_ms, long *status, char **answer)
{
	CURL *c = curl_easy_init();
	if (!c)
		return -1;
	struct curl_slist *hl = NULL;
	for (const char *const *h = headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	char err[CURL_ERROR_SIZE] = "";
	long st = http_post(c, url, hl, body, len,
			    timeout_ms > 0 ? timeout_ms : 5000, answer, err,
			    sizeof err);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	if (status)
		*status = st;
	return st ? 0 : -1;
}

static int cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

int sbx_bg_start(void)
{
	if (cond_init_mono(&t_cond) || cond_init_mono(&d_cond))
		return -1;
	if (pthread_create(&t_thread, NULL, timer_main, NULL))
		return -1;
	if (pthread_create(&d_thread, NULL, delivery_main, NULL))
		return -1;
	return 0;
}
