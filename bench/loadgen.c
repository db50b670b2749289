/*
 * loadgen.c - the benchmark's load generator and stopwatch.
 *
 *   loadgen start PORT_FILE URL_PATH -- CMD...
 *       starts CMD, waits until PORT_FILE names a port answering
 *       GET URL_PATH, prints "pid=N ready_ms=T" (T from fork to answer)
 *   loadgen send HOST_URL SINK_URL N CONCURRENCY PREFIX
 *       N webhook events from CONCURRENCY senders (keep-alive), each
 *       {"id": PREFIX<k>, "sent_us": <now>}; waits until the sink has
 *       N effects; prints events/s, webhook answer latency and the
 *       sink's end-to-end latency (webhook sent -> delivered)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>

#include <curl/curl.h>

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t sink_body(char *p, size_t size, size_t n, void *ud)
{
	char **buf = ud;
	size_t old = *buf ? strlen(*buf) : 0, add = size * n;

	*buf = realloc(*buf, old + add + 1);
	memcpy(*buf + old, p, add);
	(*buf)[old + add] = '\0';
	return add;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	return size * n;
}

/* GET url; returns the body (owned) or NULL. */
static char *get(CURL *h, const char *url)
{
	char *out = NULL;
	long code = 0;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
	if (curl_easy_perform(h) != CURLE_OK ||
	    (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code),
	     code != 200)) {
		free(out);
		return NULL;
	}
	return out;
}

static int cmd_start(int argc, char **argv)
{
	const char *port_file = argv[2], *path = argv[3];
	long long t0 = now_us();
	CURL *h = curl_easy_init();
	pid_t pid;

	unlink(port_file);
	pid = fork();
	if (pid == 0) {
		/* not our stdout: a caller reading it would wait for the host */
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, STDOUT_FILENO);
		setsid();
		execvp(argv[5], argv + 5);
		_exit(127);
	}
	while (now_us() - t0 < 10000000) {
		FILE *f = fopen(port_file, "r");
		unsigned port = 0;

		if (f) {
			if (fscanf(f, "%u", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port) {
			char url[256], *body;

			snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
				 port, path);
			body = get(h, url);
			if (body) {
				free(body);
				printf("pid=%d ready_ms=%.1f\n", pid,
				       (double)(now_us() - t0) / 1000.0);
				return 0;
			}
		}
		usleep(500);
	}
	fprintf(stderr, "loadgen: not ready after 10 s\n");
	kill(pid, SIGKILL);
	return 1;
}

struct sender {
	const char *url, *prefix;
	int from, to;
	double *ack_ms;
	int errors;
};

static void *send_main(void *arg)
{
	struct sender *s = arg;
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: "
							  "application/json");
	char body[128];

	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	for (int k = s->from; k < s->to; k++) {
		long long t = now_us();
		long code = 0;

		snprintf(body, sizeof(body),
			 "{\"id\":\"%s%d\",\"sent_us\":%lld}", s->prefix, k, t);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		if (curl_easy_perform(h) != CURLE_OK ||
		    (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code),
		     code != 200))
			s->errors++;
		s->ack_ms[k] = (double)(now_us() - t) / 1000.0;
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double stat_field(const char *json, const char *key)
{
	const char *p = strstr(json, key);

	return p ? atof(p + strlen(key) + 1) : -1;
}

static int cmd_send(int argc, char **argv)
{
	const char *host = argv[2], *sink = argv[3], *prefix = argv[6];
	int n = atoi(argv[4]), c = atoi(argv[5]), errors = 0;
	pthread_t *th = calloc((size_t)c, sizeof(*th));
	struct sender *ss = calloc((size_t)c, sizeof(*ss));
	double *ack = calloc((size_t)n, sizeof(*ack));
	char url[512], *stats = NULL;
	CURL *h = curl_easy_init();
	long long t0, t_sent, t_done;
	double effects = 0;

	snprintf(url, sizeof(url), "%s/_reset", sink);
	free(get(h, url));
	snprintf(url, sizeof(url), "%s/hooks/probe/", host);
	t0 = now_us();
	for (int i = 0; i < c; i++) {
		ss[i] = (struct sender){ url,	    prefix,
					 n * i / c, n * (i + 1) / c,
					 ack,	    0 };
		pthread_create(&th[i], NULL, send_main, &ss[i]);
	}
	for (int i = 0; i < c; i++) {
		pthread_join(th[i], NULL);
		errors += ss[i].errors;
	}
	t_sent = now_us();
	snprintf(url, sizeof(url), "%s/_stats", sink);
	do {
		free(stats);
		stats = get(h, url);
		effects = stats ? stat_field(stats, "\"effects\"") : 0;
		if (effects < n)
			usleep(2000);
	} while (effects < n && now_us() - t_sent < 60000000);
	t_done = now_us();
	qsort(ack, (size_t)n, sizeof(*ack), cmp_double);
	printf("senders=%d events=%d errors=%d accepted_per_s=%.0f "
	       "delivered_per_s=%.0f ack_p50_ms=%.2f ack_p99_ms=%.2f "
	       "e2e_p50_ms=%.2f e2e_p99_ms=%.2f delivered=%.0f\n",
	       c, n, errors, n / ((double)(t_sent - t0) / 1e6),
	       effects / ((double)(t_done - t0) / 1e6), ack[n / 2],
	       ack[(n * 99) / 100],
	       stats ? stat_field(stats, "\"p50_ms\"") : -1,
	       stats ? stat_field(stats, "\"p99_ms\"") : -1, effects);
	free(stats);
	free(ack);
	free(ss);
	free(th);
	curl_easy_cleanup(h);
	return effects >= n && !errors ? 0 : 1;
}

int main(int argc, char **argv)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (argc >= 6 && !strcmp(argv[1], "start") && !strcmp(argv[4], "--"))
		return cmd_start(argc, argv);
	if (argc == 7 && !strcmp(argv[1], "send"))
		return cmd_send(argc, argv);
	fprintf(stderr, "usage: loadgen start PORT_FILE PATH -- CMD...\n"
			"       loadgen send HOST_URL SINK_URL N CONCURRENCY "
			"PREFIX\n");
	return 2;
}
