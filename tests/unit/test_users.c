/*
 * test_users.c - the console's people: a password is checked against
 * its PBKDF2 hash, a session is found by its cookie and nothing else,
 * signing out and removing a user end sessions, roles rank.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_console.h"
#include "users.h"
#include "util.h"

static char dir[64];
static struct store *st;

static void setup(void)
{
	struct store_opts o = { 0 };
	char path[128], err[256];

	snprintf(dir, sizeof(dir), "/tmp/luong-ut-users-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/luong.db", dir);
	o.path = path;
	ck_assert_msg(store_open(&o, &st, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	char cmd[128];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void add_user(const char *name, const char *role, const char *pw)
{
	struct user_row u = { .name = xstrdup(name), .role = xstrdup(role) };

	/* few iterations: the default costs seconds on a busy machine */
	ck_assert_int_eq(users_hash(pw, 1000, &u), 0);
	ck_assert_int_eq(store_user_put(st, &u), 0);
	user_row_free(&u);
}

START_TEST(password_checks_against_its_hash_only)
{
	struct user_row u = { 0 };

	ck_assert_int_eq(users_hash("đúng-mật-khẩu", 0, &u), 0);
	ck_assert_int_eq((int)strlen(u.salt), 32);
	ck_assert_int_eq((int)strlen(u.hash), 64);
	ck_assert_int_ge(u.iterations, 600000);
	ck_assert(strstr(u.hash, "mật") == NULL);
	ck_assert(users_verify(&u, "đúng-mật-khẩu"));
	ck_assert(!users_verify(&u, "đúng-mật-khẩU"));
	ck_assert(!users_verify(&u, ""));
	user_row_free(&u);
}
END_TEST

START_TEST(same_password_two_users_two_hashes)
{
	struct user_row a = { 0 }, b = { 0 };

	users_hash("same-password", 1000, &a);
	users_hash("same-password", 1000, &b);
	ck_assert_str_ne(a.salt, b.salt);
	ck_assert_str_ne(a.hash, b.hash);
	user_row_free(&a);
	user_row_free(&b);
}
END_TEST

START_TEST(sign_in_gives_a_session_with_its_role_and_csrf)
{
	struct users *u = users_new(st);
	struct session_info si, again;

	add_user("ke-toan", "operator", "secret-pass");
	ck_assert_int_eq(users_sign_in(u, "ke-toan", "wrong-pass", &si), 1);
	ck_assert_int_eq(users_sign_in(u, "nobody", "secret-pass", &si), 1);
	ck_assert_int_eq(users_sign_in(u, "ke-toan", "secret-pass", &si), 0);
	ck_assert_str_eq(si.name, "ke-toan");
	ck_assert_int_eq(si.role, ROLE_OPERATOR);
	ck_assert_int_eq((int)strlen(si.token), 64);
	ck_assert_str_ne(si.token, si.csrf);
	ck_assert_int_eq(users_session(u, si.token, &again), 0);
	ck_assert_str_eq(again.csrf, si.csrf);
	/* the CSRF token is not a key to the session, nor a cut token */
	ck_assert_int_ne(users_session(u, si.csrf, &again), 0);
	si.token[63] = si.token[63] == 'a' ? 'b' : 'a';
	ck_assert_int_ne(users_session(u, si.token, &again), 0);
	ck_assert_int_ne(users_session(u, "", &again), 0);
	ck_assert_int_ne(users_session(u, NULL, &again), 0);
	users_free(u);
}
END_TEST

START_TEST(sign_out_and_removal_end_sessions)
{
	struct users *u = users_new(st);
	struct session_info a, b, x;

	add_user("an", "admin", "secret-pass");
	ck_assert_int_eq(users_sign_in(u, "an", "secret-pass", &a), 0);
	ck_assert_int_eq(users_sign_in(u, "an", "secret-pass", &b), 0);
	users_sign_out(u, a.token);
	ck_assert_int_ne(users_session(u, a.token, &x), 0);
	ck_assert_int_eq(users_session(u, b.token, &x), 0);
	users_forget(u, "an");
	ck_assert_int_ne(users_session(u, b.token, &x), 0);
	/* removed or demoted in the store alone (luong users): at once */
	ck_assert_int_eq(users_sign_in(u, "an", "secret-pass", &a), 0);
	add_user("an", "viewer", "secret-pass");
	ck_assert_int_eq(users_session(u, a.token, &x), 0);
	ck_assert_int_eq(x.role, ROLE_VIEWER);
	ck_assert_int_eq(store_user_del(st, "an"), 0);
	ck_assert_int_ne(users_session(u, a.token, &x), 0);
	ck_assert_int_eq(users_sign_in(u, "an", "secret-pass", &a), 1);
	users_free(u);
}
END_TEST

START_TEST(roles_rank_and_names_are_checked)
{
	ck_assert_int_lt(ROLE_VIEWER, ROLE_OPERATOR);
	ck_assert_int_lt(ROLE_OPERATOR, ROLE_ADMIN);
	ck_assert_int_eq(role_parse("admin"), ROLE_ADMIN);
	ck_assert_int_eq(role_parse("root"), ROLE_NONE);
	ck_assert_int_eq(role_parse("none"), ROLE_NONE);
	ck_assert_int_eq(role_parse(NULL), ROLE_NONE);
	ck_assert_str_eq(role_name(ROLE_VIEWER), "viewer");
	ck_assert(users_name_ok("ke.toan@anphat"));
	ck_assert(!users_name_ok(""));
	ck_assert(!users_name_ok("<script>"));
	ck_assert(!users_name_ok("a b"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("users");
	TCase *tc = tcase_create("users");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, password_checks_against_its_hash_only);
	tcase_add_test(tc, same_password_two_users_two_hashes);
	tcase_add_test(tc, sign_in_gives_a_session_with_its_role_and_csrf);
	tcase_add_test(tc, sign_out_and_removal_end_sessions);
	tcase_add_test(tc, roles_rank_and_names_are_checked);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
