/*
 * test_store_schema.c - the store's schema version and migrations: a
 * ledger written by release 0.1.0 (a fixture made by that release)
 * opens in this one with everything in it; a ledger of a newer release
 * is refused with a message; a migration is all or nothing.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_schema.h"
#include "util.h"

static char dir[64], dbpath[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/luong-ut-schema-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/luong.db", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void copy_fixture(const char *name)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp '%s/store/%s' '%s'", FIXTURES_DIR, name,
		 dbpath);
	ck_assert_int_eq(system(cmd), 0);
}

static int db_version(void)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st,
					    NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static struct store *open_ok(void)
{
	struct store_opts o = { .path = dbpath };
	struct store *s = NULL;
	char err[512];

	ck_assert_msg(store_open(&o, &s, err, sizeof(err)) == 0, "%s", err);
	return s;
}

START_TEST(ledger_of_release_0_1_0_opens_with_everything)
{
	struct store *s;
	struct doc_row row;
	struct doc_ref *refs;
	size_t n;
	char *v = NULL;

	copy_fixture("ledger-v0.1.0.db");
	s = open_ok();
	ck_assert_int_eq(db_version(), store_schema_version());
	/* the four documents, each as it was */
	ck_assert_int_eq(store_get_doc(s, "issue-note-to-accounting", "XK0001",
				       &row),
			 0);
	ck_assert_int_eq(row.status, DOC_SYNCED);
	ck_assert_str_eq(row.target, "{\"refid\":\"r-1\"}");
	ck_assert_ptr_null(row.order_key);
	doc_row_free(&row);
	ck_assert_int_eq(store_get_doc(s, "issue-note-to-accounting", "XK0003",
				       &row),
			 0);
	ck_assert_int_eq(row.status, DOC_FAILED);
	ck_assert_ptr_nonnull(strstr(row.reason, "HCM"));
	doc_row_free(&row);
	/* the one waiting for MISA's callback is still found by its key */
	ck_assert_int_eq(store_find_wait(s,
					 "issue-note-to-accounting:voucher:"
					 "XK0002",
					 &row),
			 0);
	ck_assert_str_eq(row.doc_id, "XK0002");
	doc_row_free(&row);
	ck_assert_int_eq(store_runnable(s, "issue-note-to-accounting", false,
					&refs, &n),
			 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(refs[0].waiting);
	doc_refs_free(refs, n);
	/* mode, plugin state and cursors */
	ck_assert_int_eq(store_get_mode(s, "issue-note-to-accounting", &v), 0);
	ck_assert_str_eq(v, "manual");
	free(v);
	ck_assert_int_eq(store_kv_get(s, "misa", "access_token", &v), 0);
	ck_assert_str_eq(v, "plain-token-from-v1");
	free(v);
	ck_assert_int_eq(store_cursor_get(s, "dms", "order.approved", &v), 0);
	ck_assert_str_eq(v, "2026-11-01T00:00:00");
	free(v);
	store_close(s);
	/* opening again changes nothing */
	s = open_ok();
	ck_assert_int_eq(db_version(), store_schema_version());
	store_close(s);
}
END_TEST

START_TEST(migrated_ledger_takes_new_documents_with_order_keys)
{
	struct store *s;
	struct ingest_flow f = { .flow_id = "issue-note-to-accounting",
				 .selected = true,
				 .automatic = true,
				 .order_key = "order-7" };
	struct ingest_event ev = { .connection = "kho",
				   .event = "issue_note.saved",
				   .doc_id = "XK0005",
				   .payload = "{}",
				   .flows = &f,
				   .n_flows = 1 };
	struct doc_row row;

	copy_fixture("ledger-v0.1.0.db");
	s = open_ok();
	ck_assert_int_eq(store_ingest(s, &ev, 1, NULL), 0);
	ck_assert(f.runnable);
	ck_assert_int_eq(store_get_doc(s, "issue-note-to-accounting", "XK0005",
				       &row),
			 0);
	ck_assert_str_eq(row.order_key, "order-7");
	doc_row_free(&row);
	store_close(s);
}
END_TEST

START_TEST(ledger_of_a_newer_release_is_refused)
{
	struct store_opts o = { .path = dbpath };
	struct store *s = NULL;
	sqlite3 *db;
	char err[512] = "";

	s = open_ok();
	store_close(s);
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(store_open(&o, &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "newer release"));
	ck_assert_ptr_nonnull(strstr(err, "schema 99"));
	ck_assert_int_eq(db_version(), 99); /* left as it was */
}
END_TEST

START_TEST(failed_migration_changes_nothing)
{
	struct store_opts o = { .path = dbpath };
	struct store *s = NULL;
	sqlite3 *db;
	char err[512] = "";

	copy_fixture("ledger-v0.1.0.db");
	/* a column of that name already there: migration 2 cannot run */
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
				      "ALTER TABLE docs ADD COLUMN "
				      "order_key TEXT",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(store_open(&o, &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "migration to schema 2"));
	ck_assert_int_eq(db_version(), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("store_schema");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ledger_of_release_0_1_0_opens_with_everything);
	tcase_add_test(tc, migrated_ledger_takes_new_documents_with_order_keys);
	tcase_add_test(tc, ledger_of_a_newer_release_is_refused);
	tcase_add_test(tc, failed_migration_changes_nothing);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
