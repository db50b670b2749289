/* test_util.c - allocation, time, hashing and file helpers. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util.h"

START_TEST(xasprintf_formats)
{
	char *s = xasprintf("%s-%d", "abc", 42);

	ck_assert_str_eq(s, "abc-42");
	free(s);
}
END_TEST

START_TEST(xstrdup_null_is_null)
{
	char *s = xstrdup("x");

	ck_assert_ptr_null(xstrdup(NULL));
	ck_assert_str_eq(s, "x");
	free(s);
}
END_TEST

START_TEST(zero_sized_allocations_are_usable)
{
	/* xmalloc(0) must not return NULL, or callers would abort */
	void *a = xmalloc(0), *b = xcalloc(0, 0), *c = xrealloc(NULL, 0);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(vn_time_is_utc_plus_seven)
{
	char buf[40];

	util_vn_time(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1970-01-01T07:00:00.000+07:00");
	/* 2026-11-22T03:00:00.123Z */
	util_vn_time(1795316400123LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-22T10:00:00.123+07:00");
	/* the day changes at 17:00 UTC */
	util_vn_time(1795366800000LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-23T00:00:00.000+07:00");
}
END_TEST

START_TEST(clocks_move_forward)
{
	int64_t w = util_wall_ms(), m = util_mono_ms();

	ck_assert(w > 1600000000000LL);
	usleep(20000);
	ck_assert(util_mono_ms() - m >= 15);
	ck_assert(util_wall_ms() >= w);
}
END_TEST

START_TEST(sha256_known_vectors)
{
	char out[65];

	util_sha256_hex("", 0, out);
	ck_assert_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb924"
			      "27ae41e4649b934ca495991b7852b855");
	util_sha256_hex("abc", 3, out);
	ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223"
			      "b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(read_file_whole_and_missing)
{
	char path[] = "/tmp/luong-ut-util-XXXXXX";
	int fd = mkstemp(path);
	size_t big = 100000, len = 0;
	char *data = xmalloc(big), *back;

	ck_assert_int_ge(fd, 0);
	/* larger than the first buffer, to cross the growth path */
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	ck_assert_int_eq(write(fd, data, big), (ssize_t)big);
	close(fd);
	back = util_read_file(path, &len);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(len, big);
	ck_assert_int_eq(memcmp(back, data, big), 0);
	ck_assert_int_eq(back[big], '\0');
	free(back);
	unlink(path);
	errno = 0;
	ck_assert_ptr_null(util_read_file(path, NULL));
	ck_assert_int_eq(errno, ENOENT);
	free(data);
}
END_TEST

START_TEST(read_file_empty)
{
	char path[] = "/tmp/luong-ut-util-XXXXXX";
	int fd = mkstemp(path);
	size_t len = 7;
	char *back;

	close(fd);
	back = util_read_file(path, &len);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(back, "");
	free(back);
	unlink(path);
}
END_TEST

START_TEST(path_join_cases)
{
	char *p;

	p = util_path_join("/srv/luong", "flows");
	ck_assert_str_eq(p, "/srv/luong/flows");
	free(p);
	p = util_path_join("/srv/luong", "/etc/x");
	ck_assert_str_eq(p, "/etc/x");
	free(p);
	p = util_path_join("", "flows");
	ck_assert_str_eq(p, "flows");
	free(p);
	p = util_path_join(NULL, "flows");
	ck_assert_str_eq(p, "flows");
	free(p);
}
END_TEST

START_TEST(strlcpy_truncates_and_terminates)
{
	char buf[4] = "zzz";

	util_strlcpy(buf, "abcdef", sizeof(buf));
	ck_assert_str_eq(buf, "abc");
	util_strlcpy(buf, NULL, sizeof(buf));
	ck_assert_str_eq(buf, "");
	util_strlcpy(buf, "q", 0); /* must not write */
	ck_assert_str_eq(buf, "");
}
END_TEST

/* Each case: bytes, and where the first bad byte is (len if none). */
struct utf8_case {
	const char *what, *s;
	size_t len, bad_at;
};

static const struct utf8_case utf8_cases[] = {
	{ "empty", "", 0, 0 },
	{ "ascii", "PXK001", 6, 6 },
	{ "vietnamese", "Phi\xe1\xba\xbfu xu\xe1\xba\xa5t", 14, 14 },
	{ "U+0000 is a character", "a\0b", 3, 3 },
	{ "two bytes, lowest", "\xc2\x80", 2, 2 },
	{ "four bytes, U+10FFFF", "x\xf4\x8f\xbf\xbf", 5, 5 },
	{ "U+D7FF and U+E000 around surrogates", "\xed\x9f\xbf\xee\x80\x80", 6,
	  6 },
	{ "lone continuation", "ab\x80", 3, 2 },
	{ "overlong two bytes (C0)", "a\xc0\xaf", 3, 1 },
	{ "overlong two bytes (C1)", "\xc1\xbf", 2, 0 },
	{ "overlong three bytes", "\xe0\x80\xaf", 3, 0 },
	{ "overlong four bytes", "\xf0\x80\x80\xaf", 4, 0 },
	{ "surrogate U+D800", "ok\xed\xa0\x80", 5, 2 },
	{ "surrogate U+DFFF", "\xed\xbf\xbf", 3, 0 },
	{ "over U+10FFFF (F4 90)", "\xf4\x90\x80\x80", 4, 0 },
	{ "over U+10FFFF (F5)", "\xf5\x80\x80\x80", 4, 0 },
	{ "FF byte", "abc\xff", 4, 3 },
	{ "truncated two bytes at end", "abc\xc3", 4, 3 },
	{ "truncated three bytes at end", "\xe1\xba", 2, 0 },
	{ "truncated four bytes at end", "z\xf0\x9f\x98", 4, 1 },
	{ "truncated then ascii",
	  "\xe1\xba"
	  "a",
	  3, 0 },
	{ "CR LF are valid", "a\r\nb", 4, 4 },
};

START_TEST(utf8_valid_cases)
{
	const struct utf8_case *c = &utf8_cases[_i];

	ck_assert_msg(util_utf8_invalid_at(c->s, c->len) == c->bad_at,
		      "%s: first bad byte at %zu, expected %zu", c->what,
		      util_utf8_invalid_at(c->s, c->len), c->bad_at);
	ck_assert_msg(util_utf8_valid(c->s, c->len) == (c->bad_at == c->len),
		      "%s: util_utf8_valid wrong", c->what);
}
END_TEST

START_TEST(utf8_char_lengths)
{
	ck_assert_uint_eq(util_utf8_char("a", 1), 1);
	ck_assert_uint_eq(util_utf8_char("\xc3\xa1", 2), 2);
	ck_assert_uint_eq(util_utf8_char("\xe1\xba\xbf", 3), 3);
	ck_assert_uint_eq(util_utf8_char("\xf0\x9f\x98\x80", 4), 4);
	/* the length given is a limit even when more bytes follow */
	ck_assert_uint_eq(util_utf8_char("\xe1\xba\xbf", 2), 0);
	ck_assert_uint_eq(util_utf8_char("", 0), 0);
}
END_TEST

START_TEST(raise_nofile_reaches_hard_limit)
{
	struct rlimit rl;
	long n = util_raise_nofile();

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert(rl.rlim_cur == rl.rlim_max);
	ck_assert(n > 0);
	ck_assert(rl.rlim_cur == RLIM_INFINITY || (long)rl.rlim_cur == n);
}
END_TEST

START_TEST(parse_time_vietnam_by_default)
{
	/* 2026-11-30 08:00 in Vietnam is 01:00 UTC */
	const int64_t t0100z = 1796000400000LL;
	static const struct {
		const char *text;
		int64_t ms;
	} ok[] = {
		{ "2026-11-30 08:00", t0100z },
		{ "2026-11-30T08:00:00", t0100z },
		{ "2026-11-30T08:00:00+07:00", t0100z },
		{ "2026-11-30T01:00:00Z", t0100z },
		{ "2026-11-30T03:30:00+02:30", t0100z },
		{ "2026-11-30T08:00:00.25", t0100z + 250 },
		{ "2026-11-30", t0100z - 8 * 3600000LL },
	};
	static const char *const bad[] = {
		"",
		"30/11/2026",
		"2026-13-01",
		"2026-11-30 25:00",
		"2026-11-30T08",
		"2026-11-30 08:00 tomorrow",
		"2026-11-30+7",
	};
	int64_t ms;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		ck_assert_msg(util_parse_time(ok[i].text, &ms) == 0, "%s",
			      ok[i].text);
		ck_assert_msg(ms == ok[i].ms, "%s: %lld", ok[i].text,
			      (long long)ms);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(util_parse_time(bad[i], &ms) == -1, "%s", bad[i]);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, xasprintf_formats);
	tcase_add_test(tc, xstrdup_null_is_null);
	tcase_add_test(tc, zero_sized_allocations_are_usable);
	tcase_add_test(tc, vn_time_is_utc_plus_seven);
	tcase_add_test(tc, clocks_move_forward);
	tcase_add_test(tc, sha256_known_vectors);
	tcase_add_test(tc, read_file_whole_and_missing);
	tcase_add_test(tc, read_file_empty);
	tcase_add_test(tc, path_join_cases);
	tcase_add_test(tc, strlcpy_truncates_and_terminates);
	tcase_add_loop_test(tc, utf8_valid_cases, 0, ARRAY_SIZE(utf8_cases));
	tcase_add_test(tc, utf8_char_lengths);
	tcase_add_test(tc, raise_nofile_reaches_hard_limit);
	tcase_add_test(tc, parse_time_vietnam_by_default);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
