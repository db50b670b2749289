/* util.c - allocation, time, hashing and file helpers. */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *xstrdup(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		abort();
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

int64_t util_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void util_vn_time(int64_t wall_ms, char *buf, size_t len)
{
	/* Vietnam has no daylight saving: a fixed +07:00 offset is exact. */
	time_t t = (time_t)(wall_ms / 1000) + 7 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+07:00",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	/* fetched once: an implicit fetch per call takes OpenSSL's locks */
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void util_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char hex[] = "0123456789abcdef";

	pthread_once(&sha256_once, sha256_fetch);
	EVP_Digest(data, len, md, &mdlen, sha256_md, NULL);
	for (unsigned int i = 0; i < mdlen && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

char *util_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		free(buf);
		errno = e;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *util_path_join(const char *dir, const char *name)
{
	if (!dir || !*dir || name[0] == '/')
		return xstrdup(name);
	return xasprintf("%s/%s", dir, name);
}

char *util_beside_binary(const char *rel)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return util_path_join(exe, rel);
}

int util_pad_width(int columns, const char *s)
{
	int extra = 0;

	/* continuation bytes take no column of their own */
	for (; *s; s++)
		extra += ((unsigned char)*s & 0xC0) == 0x80;
	return columns + extra;
}

void util_strlcpy(char *dst, const char *src, size_t len)
{
	if (!len)
		return;
	snprintf(dst, len, "%s", src ? src : "");
}

size_t util_utf8_char(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;

	if (!len)
		return 0;
	if (u[0] < 0x80)
		return 1;
	if (u[0] < 0xC2 || u[0] > 0xF4)
		return 0; /* continuation, overlong lead or over U+10FFFF */
	n = u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
	/* the second byte's range rules out the rest (RFC 3629, 4.) */
	if (u[0] == 0xE0)
		lo = 0xA0; /* overlong */
	else if (u[0] == 0xED)
		hi = 0x9F; /* surrogates */
	else if (u[0] == 0xF0)
		lo = 0x90; /* overlong */
	else if (u[0] == 0xF4)
		hi = 0x8F; /* over U+10FFFF */
	if (len < n || u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((u[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

size_t util_utf8_invalid_at(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len && (n = util_utf8_char(s + i, len - i)))
		i += n;
	return i;
}

bool util_utf8_valid(const char *s, size_t len)
{
	return util_utf8_invalid_at(s, len) == len;
}

long util_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_cur;
}

int util_parse_time(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	int n = 0, msec = 0, oh = 7, om = 0;
	char sign = '+';
	const char *p;

	/* a date, then optionally a time (T or space), seconds, fraction */
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &n) != 3)
		return -1;
	p = s + n;
	if (*p == 'T' || *p == ' ') {
		n = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &n) !=
		    2)
			return -1;
		p += 1 + n;
		if (*p == ':') {
			n = 0;
			if (sscanf(p + 1, "%2d%n", &tm.tm_sec, &n) != 1)
				return -1;
			p += 1 + n;
		}
		if (*p == '.') {
			int digits = 0;

			for (p++; *p >= '0' && *p <= '9'; p++, digits++)
				if (digits < 3)
					msec = msec * 10 + (*p - '0');
			for (; digits < 3; digits++)
				msec *= 10;
		}
	}
	/* Vietnam time (SPEC B10) unless an offset says otherwise */
	if (*p == 'Z') {
		oh = om = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p;
		n = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2)
			return -1;
		p += 1 + n;
	}
	if (*p || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60 || oh > 14 || om > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = ((int64_t)timegm(&tm) -
	       (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60)) *
		      1000 +
	      msec;
	return 0;
}

char *util_json_path_key(const char *base, const char *key)
{
	bool ident = isalpha((unsigned char)key[0]) || key[0] == '_';
	cJSON *q;
	char *lit, *p;

	for (const char *c = key; *c && ident; c++)
		ident = isalnum((unsigned char)*c) || *c == '_';
	if (ident)
		return xasprintf("%s.%s", base, key);
	q = cJSON_CreateString(key);
	lit = cJSON_PrintUnformatted(q);
	p = xasprintf("%s[%s]", base, lit);
	free(lit);
	cJSON_Delete(q);
	return p;
}
