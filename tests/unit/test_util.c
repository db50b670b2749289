/* test_util.c - allocation, time, hashing and file helpers. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
