/* server_pool.c - see server_pool.h. */
#include "server_pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"

struct task {
	void (*fn)(void *);
	void *arg;
	struct task *next;
};

struct server_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct task *head, **tail;
	size_t queued;
	pthread_t *threads;
	unsigned n, max, idle;
	pthread_attr_t attr;
	bool draining;
};

static void *pool_main(void *arg)
{
	struct server_pool *p = arg;
	struct task *t;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->head && !p->draining) {
			p->idle++;
			pthread_cond_wait(&p->cv, &p->mu);
			p->idle--;
		}
		t = p->head;
		if (!t)
			break; /* draining and nothing left */
		p->head = t->next;
		if (!p->head)
			p->tail = &p->head;
		p->queued--;
		pthread_mutex_unlock(&p->mu);
		t->fn(t->arg);
		free(t);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct server_pool *server_pool_new(unsigned max_threads, size_t stack_size)
{
	struct server_pool *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	pthread_attr_init(&p->attr);
	pthread_attr_setstacksize(&p->attr, stack_size);
	p->tail = &p->head;
	p->max = max_threads ? max_threads : 1;
	p->threads = xcalloc(p->max, sizeof(*p->threads));
	return p;
}

/* A thread more when the idle ones cannot take all that is queued;
 * false when there is no thread at all to run the work. */
static bool pool_grow(struct server_pool *p)
{
	int rc;

	if (p->queued <= p->idle || p->n >= p->max)
		return true;
	rc = pthread_create(&p->threads[p->n], &p->attr, pool_main, p);
	if (rc == 0)
		p->n++;
	else
		log_error("http: cannot start a request thread: error %d", rc);
	return p->n > 0;
}

bool server_pool_run(struct server_pool *p, void (*fn)(void *), void *arg)
{
	struct task *t = xmalloc(sizeof(*t));

	t->fn = fn;
	t->arg = arg;
	t->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->draining) {
		pthread_mutex_unlock(&p->mu);
		free(t);
		return false;
	}
	*p->tail = t;
	p->tail = &t->next;
	p->queued++;
	if (!pool_grow(p)) {
		/* no thread runs, so t is the only one queued */
		p->head = NULL;
		p->tail = &p->head;
		p->queued = 0;
		pthread_mutex_unlock(&p->mu);
		free(t);
		return false;
	}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return true;
}

void server_pool_drain(struct server_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->draining = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	p->n = 0;
}

void server_pool_free(struct server_pool *p)
{
	if (!p)
		return;
	server_pool_drain(p);
	pthread_attr_destroy(&p->attr);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p);
}
