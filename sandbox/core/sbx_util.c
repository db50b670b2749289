/* sbx_util.c - crypto, Vietnam time, JSON and file helpers. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "sbx.h"

#define VN_OFFSET_MS (7LL * 3600 * 1000)

static int hmac_raw(const char *key, size_t key_len, const char *msg,
		    size_t msg_len, unsigned char *out, unsigned int *out_len)
{
	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg,
		  msg_len, out, out_len))
		return -1;
	return 0;
}

char *sbx_hmac_sha256_hex(const char *key, size_t key_len, const char *msg,
			  size_t msg_len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (hmac_raw(key, key_len, msg, msg_len, mac, &n) < 0)
		return NULL;
	char *hex = malloc(2 * n + 1);
	if (!hex)
		return NULL;
	for (unsigned int i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", mac[i]);
	return hex;
}

char *sbx_hmac_sha256_b64(const char *key, size_t key_len, const char *msg,
			  size_t msg_len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (hmac_raw(key, key_len, msg, msg_len, mac, &n) < 0)
		return NULL;
	char *b64 = malloc(4 * ((n + 2) / 3) + 1);
	if (!b64)
		return NULL;
	EVP_EncodeBlock((unsigned char *)b64, mac, (int)n);
	return b64;
}

void sbx_random_hex(char *out, size_t nbytes)
{
	unsigned char buf[64];
	size_t done = 0;
	while (done < nbytes) {
		size_t n =
			nbytes - done < sizeof buf ? nbytes - done : sizeof buf;
		if (RAND_bytes(buf, (int)n) != 1)
			memset(buf, 0x5a,
			       n); /* never happens with a seeded CSPRNG */
		for (size_t i = 0; i < n; i++)
			sprintf(out + 2 * (done + i), "%02x", buf[i]);
		done += n;
	}
	out[2 * nbytes] = '\0';
}

void sbx_uuid(char out[37])
{
	char h[33];
	sbx_random_hex(h, 16);
	h[12] = '4';
	h[16] = "89ab"[h[16] % 4];
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
		 h + 20);
}

int64_t sbx_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sbx_time_vn(int64_t ms, enum sbx_time_style style, char *buf, size_t n)
{
	int64_t local = ms + VN_OFFSET_MS;
	time_t secs = (time_t)(local / 1000);
	int frac = (int)(local % 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	switch (style) {
	case SBX_TIME_ISO:
		snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+07:00",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
		break;
	case SBX_TIME_SQL:
		snprintf(buf, n, "%04d-%02d-%02d %02d:%02d:%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
		break;
	case SBX_TIME_DATE:
		snprintf(buf, n, "%04d-%02d-%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday);
		break;
	}
}

int64_t sbx_parse_time(const char *s)
{
	if (!s)
		return -1;
	int y, mo, d, h = 0, mi = 0, se = 0, used = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3)
		return -1;
	const char *p = s + used;
	int frac = 0;
	if (*p == ' ' || *p == 'T') {
		int u2 = 0;
		if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &u2) != 3)
			return -1;
		p += 1 + u2;
		if (*p == '.') {
			p++;
			int digits = 0;
			while (isdigit((unsigned char)*p)) {
				if (digits < 3)
					frac = frac * 10 + (*p - '0');
				digits++;
				p++;
			}
			for (; digits < 3; digits++)
				frac *= 10;
		}
	}
	int64_t offset = VN_OFFSET_MS;
	if (*p == 'Z') {
		offset = 0;
	} else if (*p == '+' || *p == '-') {
		int oh = 0, om = 0;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
			return -1;
		offset = ((int64_t)oh * 3600 + om * 60) * 1000 *
			 (*p == '-' ? -1 : 1);
	} else if (*p) {
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return -1;
	struct tm tm = { .tm_year = y - 1900,
			 .tm_mon = mo - 1,
			 .tm_mday = d,
			 .tm_hour = h,
			 .tm_min = mi,
			 .tm_sec = se };
	time_t t = timegm(&tm);
	return (int64_t)t * 1000 + frac - offset;
}

const char *sbx_jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double sbx_jnum(const cJSON *obj, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (cJSON_IsNumber(v))
		return v->valuedouble;
	if (cJSON_IsString(v) && v->valuestring[0]) {
		char *end;
		double x = strtod(v->valuestring, &end);
		if (*end == '\0')
			return x;
	}
	return dflt;
}

bool sbx_jbool(const cJSON *obj, const char *key, bool dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	return dflt;
}

char *sbx_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (!nb)
				goto out_fail;
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f))
		goto out_fail;
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
out_fail:
	free(buf);
	fclose(f);
	return NULL;
}

void sbx_jset(cJSON *obj, const char *key, cJSON *val)
{
	if (cJSON_HasObjectItem(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
	else
		cJSON_AddItemToObject(obj, key, val);
}

void sbx_jset_num(cJSON *obj, const char *key, double v)
{
	sbx_jset(obj, key, cJSON_CreateNumber(v));
}

void sbx_jset_str(cJSON *obj, const char *key, const char *s)
{
	sbx_jset(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

void sbx_strip_internal(cJSON *item)
{
	cJSON *it = item ? item->child : NULL;
	while (it) {
		cJSON *next = it->next;
		if (cJSON_IsObject(item) && it->string && it->string[0] == '_')
			cJSON_Delete(cJSON_DetachItemViaPointer(item, it));
		else if (cJSON_IsObject(it) || cJSON_IsArray(it))
			sbx_strip_internal(it);
		it = next;
	}
}

cJSON *sbx_out_copy(const cJSON *item)
{
	cJSON *c = cJSON_Duplicate(item, true);
	sbx_strip_internal(c);
	return c;
}

double sbx_vnd(double v)
{
	/* no libm in the sandbox core */
	return (double)(long long)(v + (v < 0 ? -0.5 : 0.5));
}

char *sbx_webhook_sign_b64(const struct sbx_emu *emu, const char *fallback,
			   const char *body)
{
	const char *secret = sbx_webhook_secret(emu);
	if (!secret || !*secret)
		secret = fallback ? fallback : "";
	return sbx_hmac_sha256_b64(secret, strlen(secret), body, strlen(body));
}
