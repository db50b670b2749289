/* harness.c - see harness.h. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>

long long h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void mkdirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0700);
			*p = '/';
		}
	mkdir(buf, 0700);
}

void h_write(struct deploy *d, const char *rel, const char *fmt, ...)
{
	char path[512], dir[512];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d->dir, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

void h_deploy(struct deploy *d)
{
	char path[512];

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/luong-it-XXXXXX");
	if (!mkdtemp(d->dir))
		abort();
	h_write(d, "luong.json",
		"{\"listen\": \"127.0.0.1:0\", \"workers\": 4,"
		" \"admin_token\": {\"file\": \"admin.token\"},"
		" \"log_level\": \"debug\", \"wait_timeout_s\": 30}\n");
	h_write(d, "admin.token", "test-admin-token\n");
	snprintf(path, sizeof(path), "%s/admin.token", d->dir);
	chmod(path, 0600);
	d->token = strdup("test-admin-token");
	mkdirs(strcat(strcpy(path, d->dir), "/plugins"));
	mkdirs(strcat(strcpy(path, d->dir), "/flows"));
	mkdirs(strcat(strcpy(path, d->dir), "/connections"));
	mkdirs(strcat(strcpy(path, d->dir), "/mappings"));
	snprintf(path, sizeof(path), "%s/plugins/probe.so", d->dir);
	if (symlink(PROBE_SO, path))
		abort();
}

void h_cleanup(struct deploy *d)
{
	char cmd[600];

	if (d->pid > 0)
		h_stop(d, SIGKILL);
	if (!getenv("LUONG_KEEP_TEST_DIRS")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", d->dir);
	}
	free(d->token);
	d->token = NULL;
}

void h_probe_setup(struct deploy *d, unsigned sink_port, const char *mode)
{
	h_write(d, "connections/probe.json",
		"{\"plugin\": \"probe\", \"config\": "
		"{\"target\": \"http://127.0.0.1:%u\"}}\n",
		sink_port);
	h_write(d, "flows/relay.json",
		"{\"id\": \"relay\", \"name\": \"Relay things\","
		" \"mode\": \"%s\","
		" \"trigger\": {\"connection\": \"probe\", \"event\": "
		"\"thing.saved\"},"
		" \"steps\": [{\"id\": \"send\", \"connection\": \"probe\","
		" \"action\": \"deliver\", \"input\": {\"doc\": \".id\", "
		"\"n\": \".n\", \"sent_us\": \".sent_us\"}}],"
		" \"on_error\": {\"backoff\": {\"initial\": \"200ms\", "
		"\"max\": \"1s\"}}}\n",
		mode);
}

static unsigned read_port(struct deploy *d)
{
	char path[512], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/var/port", d->dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return (unsigned)atoi(buf);
}

int h_start(struct deploy *d)
{
	char path[512], log[512];
	long long t0 = h_now_ms();
	pid_t pid;

	snprintf(path, sizeof(path), "%s/var/port", d->dir);
	unlink(path);
	snprintf(log, sizeof(log), "%s/host.log", d->dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		char cfg[512];

		dup2(fd, 2);
		dup2(fd, 1);
		snprintf(cfg, sizeof(cfg), "%s/luong.json", d->dir);
		execl(LUONG_BIN, "luong", "-c", cfg, "run", (char *)NULL);
		_exit(127);
	}
	d->pid = pid;
	while (h_now_ms() - t0 < 15000) {
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			d->pid = 0;
			return -1;
		}
		d->port = read_port(d);
		if (d->port && h_api(d, "GET", "/flows", NULL, NULL) == 200)
			return 0;
		usleep(20000);
	}
	return -1;
}

int h_stop(struct deploy *d, int sig)
{
	int st = 0;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	waitpid(d->pid, &st, 0);
	d->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int h_luong(struct deploy *d, char **out, const char *args)
{
	char *cmd;
	FILE *p;
	size_t cap = 4096, n = 0, r;
	int st;

	if (asprintf(&cmd, "'%s' -c '%s/luong.json' %s 2>&1", LUONG_BIN, d->dir,
		     args) < 0)
		abort();
	p = popen(cmd, "r");
	free(cmd);
	*out = malloc(cap);
	while ((r = fread(*out + n, 1, cap - n - 1, p)) > 0) {
		n += r;
		if (cap - n < 1024)
			*out = realloc(*out, cap *= 2);
	}
	(*out)[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static size_t on_data(char *ptr, size_t size, size_t nm, void *ud)
{
	char **buf = ud;
	size_t old = *buf ? strlen(*buf) : 0, add = size * nm;

	*buf = realloc(*buf, old + add + 1);
	memcpy(*buf + old, ptr, add);
	(*buf)[old + add] = '\0';
	return add;
}

long h_http(const char *method, const char *url, const char *body,
	    const char *header, char **out)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	long status = 0;

	*out = NULL;
	if (header)
		hdrs = curl_slist_append(hdrs, header);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return status;
}

long h_api(struct deploy *d, const char *method, const char *path,
	   const char *body, cJSON **json)
{
	char url[1024], auth[256], *out = NULL;
	long st;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api%s", d->port, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", d->token);
	st = h_http(method, url, body, auth, &out);
	if (json)
		*json = out ? cJSON_Parse(out) : NULL;
	free(out);
	return st;
}

long h_hook(struct deploy *d, const char *conn, const char *path,
	    const char *body)
{
	char url[1024], *out = NULL;
	long st;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/%s%s", d->port,
		 conn, path);
	st = h_http("POST", url, body, NULL, &out);
	free(out);
	return st;
}

char *h_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

int h_copy_in(struct deploy *d, const char *src, const char *rel)
{
	char *text = h_read_file(src, NULL);

	if (!text)
		return -1;
	h_write(d, rel, "%s", text);
	free(text);
	return 0;
}

char *h_log(struct deploy *d)
{
	char path[512], *log;

	snprintf(path, sizeof(path), "%s/host.log", d->dir);
	log = h_read_file(path, NULL);
	return log ? log : strdup("");
}

bool h_log_has(struct deploy *d, const char *needle)
{
	char *log = h_log(d);
	bool has = strstr(log, needle) != NULL;

	free(log);
	return has;
}

char *h_doc_status(struct deploy *d, const char *flow, const char *doc)
{
	char path[512];
	cJSON *j = NULL;
	const cJSON *st;
	char *out = NULL;

	snprintf(path, sizeof(path), "/flows/%s/document?id=%s", flow, doc);
	if (h_api(d, "GET", path, NULL, &j) == 200) {
		st = cJSON_GetObjectItem(j, "status");
		if (cJSON_IsString(st))
			out = strdup(st->valuestring);
	}
	cJSON_Delete(j);
	return out;
}

bool h_wait_status(struct deploy *d, const char *flow, const char *doc,
		   const char *status, long timeout_ms)
{
	long long t0 = h_now_ms();

	while (h_now_ms() - t0 < timeout_ms) {
		char *st = h_doc_status(d, flow, doc);
		bool ok = st && !strcmp(st, status);

		free(st);
		if (ok)
			return true;
		usleep(50000);
	}
	return false;
}

unsigned h_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	unsigned seed = (unsigned)(getpid() ^ h_now_ms());

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 200; i++) {
		unsigned port = 20000 + rand_r(&seed) % 12000;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
		    one = 1;
		bool ok;

		if (fd < 0)
			return 0;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		a.sin_port = htons((uint16_t)port);
		ok = !bind(fd, (struct sockaddr *)&a, sizeof(a));
		close(fd);
		if (ok)
			return port;
	}
	return 0;
}

/* ---- the sandbox ------------------------------------------------------- */

int h_sandbox_start(struct sandbox *sb, const char *only)
{
	char ports[128], *text;
	long long t0 = h_now_ms();

	memset(sb, 0, sizeof(*sb));
	snprintf(sb->dir, sizeof(sb->dir), "/tmp/luong-sbx-XXXXXX");
	if (!mkdtemp(sb->dir))
		return -1;
	snprintf(ports, sizeof(ports), "%s/ports.json", sb->dir);
	sb->pid = fork();
	if (sb->pid == 0) {
		char log[128];
		int fd;

		snprintf(log, sizeof(log), "%s/sandbox.log", sb->dir);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(SANDBOX_BIN, "luong-sandbox", "--only", only, "--seed",
		      SANDBOX_SEED, "--ports-file", ports, (char *)NULL);
		_exit(127);
	}
	while (access(ports, R_OK) && h_now_ms() - t0 < 10000)
		usleep(20000);
	text = h_read_file(ports, NULL);
	sb->ports = text ? cJSON_Parse(text) : NULL;
	free(text);
	return sb->ports ? 0 : -1;
}

int h_sandbox_port(const struct sandbox *sb, const char *emu)
{
	return (int)cJSON_GetNumberValue(cJSON_GetObjectItem(sb->ports, emu));
}

void h_sandbox_stop(struct sandbox *sb)
{
	char cmd[128];
	int st;

	if (sb->pid > 0) {
		kill(sb->pid, SIGTERM);
		waitpid(sb->pid, &st, 0);
		sb->pid = 0;
	}
	cJSON_Delete(sb->ports);
	sb->ports = NULL;
	if (sb->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sb->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", sb->dir);
		sb->dir[0] = '\0';
	}
}

/* ---- emulators' answers ------------------------------------------------- */

cJSON *h_emu(int port, const char *method, const char *path, const char *body)
{
	char url[512], *out = NULL;
	cJSON *j;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	h_http(method, url, body, NULL, &out);
	j = out ? cJSON_Parse(out) : NULL;
	free(out);
	return j;
}

const char *h_jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double h_jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

cJSON *h_find_row(cJSON *st, const char *table, const char *key,
		  const char *value)
{
	cJSON *r;

	cJSON_ArrayForEach (r, cJSON_GetObjectItem(st, table)) {
		const cJSON *v = cJSON_GetObjectItem(r, key);
		char buf[32];

		if (cJSON_IsNumber(v)) {
			snprintf(buf, sizeof(buf), "%.0f", v->valuedouble);
			if (!strcmp(buf, value))
				return r;
		} else if (cJSON_IsString(v) &&
			   !strcmp(v->valuestring, value)) {
			return r;
		}
	}
	return NULL;
}
