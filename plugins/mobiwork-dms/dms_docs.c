/*
 * dms_docs.c - DMS order lines made into documents. Bill and ReturnBill
 * rows are order lines keyed by ma_phieu + stt (apis.md §5): a flow wants
 * one order with its lines, its dates as MISA takes them, and its totals
 * checked against the lines (SPEC B10).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dms.h"

/* Members of a row that belong to its line, not to the order. */
static const char *const line_keys[] = { "stt",
					 "ma_sp",
					 "ten_sp",
					 "so_luong",
					 "ma_dvt",
					 "ten_dvt",
					 "don_gia",
					 "thanh_tien",
					 "ty_le_chiet_khau",
					 "chiet_khau_tien",
					 "thue_suat",
					 "tien_thue",
					 "tong_cong",
					 "is_km",
					 "loai_hang",
					 "ctkm",
					 "promotion",
					 "ma_kho_xuat_km",
					 NULL };

static bool is_line_key(const char *k)
{
	for (int i = 0; line_keys[i]; i++) {
		if (!strcmp(line_keys[i], k))
			return true;
	}
	return false;
}

static double num0(const cJSON *o, const char *k)
{
	double v = 0;

	dms_num(o, k, &v);
	return v;
}

static double dong(double v)
{
	return v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
}

static int by_stt(const void *a, const void *b)
{
	double x = num0(*(cJSON *const *)a, "stt"),
	       y = num0(*(cJSON *const *)b, "stt");

	return x < y ? -1 : x > y;
}

/* Adds "<key>_iso": yyyy-mm-dd of a dd/mm/yyyy date member. */
static void iso_of(cJSON *doc, const char *key)
{
	char iso[11], name[64];

	if (dms_iso_date(dms_str(doc, key), iso)) {
		snprintf(name, sizeof(name), "%s_iso", key);
		cJSON_DeleteItemFromObjectCaseSensitive(doc, name);
		cJSON_AddStringToObject(doc, name, iso);
	}
}

/* SPEC B10 on the lines; null when the order's totals agree within the
 * per-line rounding, else both figures in words. */
static cJSON *b10_check(const cJSON *doc, const cJSON *lines)
{
	static const char *const keys[] = { "tong_tien_hang", "tong_chiet_khau",
					    "tong_tien_thue",
					    "tong_thanh_toan" };
	double sum[4] = { 0 };
	const cJSON *l;
	int n = 0;
	char msg[400];

	cJSON_ArrayForEach (l, lines) {
		double amount = dong(num0(l, "so_luong") * num0(l, "don_gia")),
		       disc, rate;

		if (dms_num(l, "chiet_khau_tien", &disc))
			disc = dong(disc);
		else
			disc = dong(amount * num0(l, "ty_le_chiet_khau") / 100);
		rate = num0(l, "thue_suat");
		sum[0] += amount;
		sum[1] += disc;
		sum[2] += dong((amount - disc) * rate / 100);
		n++;
	}
	sum[3] = sum[0] - sum[1] + sum[2];
	for (int i = 0; i < 4; i++) {
		double given;

		if (dms_num(doc, keys[i], &given) && fabs(given - sum[i]) > n) {
			snprintf(msg, sizeof(msg),
				 "%s của phiếu là %.0f đ nhưng cộng các dòng "
				 "được %.0f đ / the order's %s is %.0f VND but "
				 "its lines add up to %.0f VND",
				 keys[i], given, sum[i], keys[i], given,
				 sum[i]);
			return cJSON_CreateString(msg);
		}
	}
	return cJSON_CreateNull();
}

cJSON *dms_group_doc(const cJSON *rows, char *why, size_t n)
{
	const cJSON *r, *f;
	cJSON *doc = cJSON_CreateObject(), *lines = cJSON_CreateArray();
	cJSON **sorted;
	int count = cJSON_GetArraySize(rows), k = 0;
	const char *no = NULL;

	sorted = calloc((size_t)(count ? count : 1), sizeof(*sorted));
	cJSON_ArrayForEach (r, rows) {
		cJSON *line = cJSON_CreateObject();
		const char *rno = dms_str(r, "ma_phieu");
		double stt = num0(r, "stt");

		if (!rno || (no && strcmp(no, rno))) {
			snprintf(why, n, "a row has %s ma_phieu",
				 rno ? "another" : "no");
			goto refuse;
		}
		no = rno;
		for (int i = 0; i < k; i++) {
			if (num0(sorted[i], "stt") == stt) {
				snprintf(why, n,
					 "%s: dòng stt %.0f lặp lại / line stt "
					 "%.0f is repeated",
					 no, stt, stt);
				goto refuse;
			}
		}
		cJSON_ArrayForEach (f, r) {
			if (is_line_key(f->string))
				cJSON_AddItemToObject(line, f->string,
						      cJSON_Duplicate(f, 1));
			else if (!cJSON_GetObjectItemCaseSensitive(doc,
								   f->string))
				cJSON_AddItemToObject(doc, f->string,
						      cJSON_Duplicate(f, 1));
		}
		/* the warehouse a line leaves from: gifts may have their own */
		cJSON_AddStringToObject(
			line, "ma_kho",
			cJSON_IsTrue(
				cJSON_GetObjectItemCaseSensitive(r, "is_km")) &&
					dms_str(r, "ma_kho_xuat_km")
				? dms_str(r, "ma_kho_xuat_km")
				: (dms_str(r, "ma_kho_xuat") ? dms_str(r, "ma_"
									  "kho_"
									  "xua"
									  "t")
							     : ""));
		sorted[k++] = line;
		continue;
	refuse:
		cJSON_Delete(line);
		for (int i = 0; i < k; i++)
			cJSON_Delete(sorted[i]);
		free(sorted);
		cJSON_Delete(doc);
		cJSON_Delete(lines);
		return NULL;
	}
	if (!k) {
		snprintf(why, n, "no lines");
		free(sorted);
		cJSON_Delete(doc);
		cJSON_Delete(lines);
		return NULL;
	}
	qsort(sorted, (size_t)k, sizeof(*sorted), by_stt);
	for (int i = 0; i < k; i++)
		cJSON_AddItemToArray(lines, sorted[i]);
	free(sorted);
	cJSON_AddItemToObject(doc, "kiem_tra_tong", b10_check(doc, lines));
	cJSON_AddItemToObject(doc, "lines", lines);
	iso_of(doc, "ngay_dat");
	iso_of(doc, "ngay_ban_hang");
	iso_of(doc, "ngay_duyet");
	iso_of(doc, "ngay_tra");
	return doc;
}

cJSON *dms_group_all(struct dms *d, const cJSON *rows)
{
	cJSON *docs = cJSON_CreateArray(), *groups = cJSON_CreateObject();
	const cJSON *r, *g;
	char why[200];

	/* rows of one order may be apart (a page ends inside an order) */
	cJSON_ArrayForEach (r, rows) {
		const char *no = dms_str(r, "ma_phieu");
		cJSON *list;

		if (!no)
			continue;
		list = cJSON_GetObjectItemCaseSensitive(groups, no);
		if (!list)
			list = cJSON_AddArrayToObject(groups, no);
		cJSON_AddItemToArray(list, cJSON_Duplicate(r, 1));
	}
	cJSON_ArrayForEach (g, groups) {
		cJSON *doc = dms_group_doc(g, why, sizeof(why));

		if (doc)
			cJSON_AddItemToArray(docs, doc);
		else
			d->h->log->log(d->ctx, LUONG_LOG_WARN,
				       "%s: order %s skipped: %s", DMS_SYSTEM,
				       g->string, why);
	}
	cJSON_Delete(groups);
	return docs;
}

static const cJSON *line_of(const cJSON *doc, double stt)
{
	const cJSON *l;

	cJSON_ArrayForEach (l, cJSON_GetObjectItemCaseSensitive(doc, "lines")) {
		if (num0(l, "stt") == stt)
			return l;
	}
	return NULL;
}

static void say(cJSON *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(cJSON *out, const char *fmt, ...)
{
	char buf[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(out, cJSON_CreateString(buf));
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

cJSON *dms_doc_changes(const cJSON *before, const cJSON *after)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *l;
	static const char *const text[] = { "hinh_thuc_thanh_toan", "ghi_chu",
					    "ma_kho_xuat", "ma_kh", NULL };

	cJSON_ArrayForEach (l, cJSON_GetObjectItemCaseSensitive(after, "line"
								       "s")) {
		double stt = num0(l, "stt");
		const cJSON *o = line_of(before, stt);
		const char *sp = or_empty(dms_str(l, "ma_sp"));

		if (!o)
			say(out, "dòng %.0f: thêm %s × %.0f", stt, sp,
			    num0(l, "so_luong"));
		else if (strcmp(sp, or_empty(dms_str(o, "ma_sp"))))
			say(out, "dòng %.0f: mã hàng %s → %s", stt,
			    or_empty(dms_str(o, "ma_sp")), sp);
		else if (num0(o, "so_luong") != num0(l, "so_luong"))
			say(out, "dòng %.0f %s: số lượng %.0f → %.0f", stt, sp,
			    num0(o, "so_luong"), num0(l, "so_luong"));
		else if (num0(o, "don_gia") != num0(l, "don_gia"))
			say(out, "dòng %.0f %s: đơn giá %.0f → %.0f", stt, sp,
			    num0(o, "don_gia"), num0(l, "don_gia"));
	}
	cJSON_ArrayForEach (l, cJSON_GetObjectItemCaseSensitive(before, "line"
									"s")) {
		if (!line_of(after, num0(l, "stt")))
			say(out, "dòng %.0f: bỏ %s", num0(l, "stt"),
			    or_empty(dms_str(l, "ma_sp")));
	}
	if (num0(before, "tong_thanh_toan") != num0(after, "tong_thanh_toan"))
		say(out, "tong_thanh_toan: %.0f → %.0f",
		    num0(before, "tong_thanh_toan"),
		    num0(after, "tong_thanh_toan"));
	for (int i = 0; text[i]; i++) {
		const char *a = dms_str(before, text[i]),
			   *b = dms_str(after, text[i]);

		if ((a || b) && (!a || !b || strcmp(a, b)))
			say(out, "%s: \"%s\" → \"%s\"", text[i], or_empty(a),
			    or_empty(b));
	}
	return out;
}

cJSON *dms_outlet(const cJSON *row)
{
	cJSON *o = cJSON_Duplicate(row, 1);

	iso_of(o, "ngay_tao");
	return o;
}
