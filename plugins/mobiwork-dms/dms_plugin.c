/*
 * dms_plugin.c - the mobiwork-dms connector: settings, what it declares
 * (events, actions, fields) and its life cycle. See README.md for which
 * parts of MobiWork's API are seen in public client code and which are
 * the sandbox's design a real deployment must confirm.
 */
#include <stdio.h>
#include <string.h>

#include "dms.h"

static enum luong_status dms_init(struct luong_ctx *ctx,
				  const struct luong_host *host, void **state)
{
	struct dms *d;
	const char *user, *key;
	size_t n;

	if (host->abi_major != LUONG_ABI_MAJOR || !LUONG_HAS(host, helpers))
		return LUONG_E_ABI;
	d = host->mem->alloc(sizeof(*d));
	if (!d)
		return LUONG_E_NOMEM;
	memset(d, 0, sizeof(*d));
	*state = d;
	d->h = host;
	d->ctx = ctx;
	d->server = host->config->get(ctx, "server");
	user = host->config->get(ctx, "user_id");
	key = host->config->get(ctx, "token_key");
	d->secret = host->config->get(ctx, "webhook_secret");
	if (d->secret && !*d->secret)
		d->secret = NULL;
	d->page_size = (long)host->config->get_int(ctx, "page_size");
	d->timeout_ms = (uint32_t)host->config->get_int(ctx, "timeout_ms");
	d->poll_from = host->config->get(ctx, "poll_from");
	if (!d->server || !user || !*user || !key || !*key) {
		host->log->fail(ctx, "server, user_id and token_key are "
				     "required");
		return LUONG_E_CONFIG;
	}
	n = strlen(d->server);
	if (n && d->server[n - 1] == '/') {
		host->log->fail(ctx, "server must not end with '/' (e.g. "
				     "https://openapi.mobiwork.vn)");
		return LUONG_E_CONFIG;
	}
	if (d->page_size < 1 || d->page_size > 1000) {
		host->log->fail(ctx, "page_size must be 1 to 1000");
		return LUONG_E_CONFIG;
	}
	if (d->poll_from && dms_parse_day(d->poll_from) < 0) {
		host->log->fail(ctx,
				"poll_from must be a date dd/mm/yyyy, "
				"not \"%s\"",
				d->poll_from);
		return LUONG_E_CONFIG;
	}
	dms_basic_auth(user, key, d->auth, sizeof(d->auth));
	return LUONG_OK;
}

static void dms_fini(struct luong_ctx *ctx, void *state)
{
	struct dms *d = state;

	(void)ctx;
	if (d)
		d->h->mem->free(d);
}

static const struct luong_config_field dms_config[] = {
	{ .name = "server",
	  .type = LUONG_CFG_URL,
	  .flags = LUONG_CFG_REQUIRED,
	  .description = "OpenAPI host, e.g. https://openapi.mobiwork.vn "
			 "(the plugin adds /OpenAPI/V1/...)" },
	{ .name = "user_id",
	  .type = LUONG_CFG_STRING,
	  .flags = LUONG_CFG_REQUIRED,
	  .description = "API user (id_dms) from the DMS admin" },
	{ .name = "token_key",
	  .type = LUONG_CFG_SECRET,
	  .flags = LUONG_CFG_REQUIRED,
	  .description = "token key of that user (Basic auth)" },
	{ .name = "webhook_secret",
	  .type = LUONG_CFG_SECRET,
	  .description = "key of X-Mobiwork-Signature; unset: webhooks "
			 "refused, use the .poll events" },
	{ .name = "page_size",
	  .type = LUONG_CFG_INT,
	  .default_value = "200",
	  .description = "rows per page read (1-1000; clients use 200)" },
	{ .name = "poll_from",
	  .type = LUONG_CFG_STRING,
	  .description = "dd/mm/yyyy: the first day the polls read (default "
			 "today)" },
	{ .name = "timeout_ms",
	  .type = LUONG_CFG_INT,
	  .default_value = "20000",
	  .description = "time-out of one request" },
	{ 0 }
};

#define S LUONG_FIELD_STRING
#define N LUONG_FIELD_NUMBER
#define B LUONG_FIELD_BOOL
#define A LUONG_FIELD_ARRAY
#define ANY LUONG_FIELD_ANY
#define REQ LUONG_FIELD_REQUIRED

static const struct luong_field_def outlet_fields[] = {
	{ .name = "id", .type = N, .description = "DMS's API id" },
	{ .name = "ma_kh", .type = S, .description = "outlet code (the id)" },
	{ .name = "tenkh", .type = S, .description = "name" },
	{ .name = "dia_chi", .type = S, .description = "address" },
	{ .name = "sdt", .type = S, .description = "phone" },
	{ .name = "ma_so_thue", .type = ANY, .description = "tax code or null" },
	{ .name = "email", .type = ANY },
	{ .name = "loai_kh", .type = S, .description = "outlet type" },
	{ .name = "nhom_kh", .type = S, .description = "group" },
	{ .name = "code_router", .type = S, .description = "route" },
	{ .name = "tinh_thanh_moi", .type = S, .description = "province" },
	{ .name = "ma_nv_tao",
	  .type = S,
	  .description = "salesman who added it" },
	{ .name = "ngay_tao", .type = S, .description = "dd/mm/yyyy HH:MM:SS" },
	{ .name = "ngay_tao_iso", .type = S, .description = "yyyy-mm-dd" },
	{ 0 }
};

static const char outlet_sample[] =
	"{\"id\":500001,\"ma_kh\":\"KH1001\",\"tenkh\":\"Cửa hàng Tiện lợi "
	"Minh Châu\",\"dia_chi\":\"Số 3 Phố Huế, Hai Bà Trưng, Hà Nội\","
	"\"sdt\":\"0904 111 222\",\"ma_so_thue\":\"0109876543\",\"email\":null,"
	"\"loai_kh\":\"Tạp "
	"hóa\",\"nhom_kh\":\"MB\",\"code_router\":\"T-HN-T5\","
	"\"tinh_thanh_moi\":\"Hà Nội\",\"ma_nv_tao\":\"NVBH01\",\"ngay_tao\":"
	"\"20/06/2025 09:15:00\",\"ngay_tao_iso\":\"2025-06-20\"}";

static const struct luong_field_def order_fields[] = {
	{ .name = "ma_phieu",
	  .type = S,
	  .description = "order number (the id)" },
	{ .name = "id_phieu", .type = N },
	{ .name = "ma_kh", .type = S, .description = "outlet code" },
	{ .name = "ten_kh", .type = S },
	{ .name = "dia_chi", .type = S },
	{ .name = "ma_so_thue_kh", .type = ANY },
	{ .name = "ma_nv_dat", .type = S, .description = "salesman code" },
	{ .name = "ten_nguoi_dat", .type = S },
	{ .name = "ma_kho_xuat",
	  .type = S,
	  .description = "DMS warehouse (Hà Nội)" },
	{ .name = "hinh_thuc_thanh_toan",
	  .type = S,
	  .description = "Tiền mặt, Chuyển khoản, Công nợ" },
	{ .name = "ghi_chu", .type = ANY },
	{ .name = "ngay_dat", .type = S, .description = "dd/mm/yyyy HH:MM:SS" },
	{ .name = "ngay_ban_hang", .type = S, .description = "dd/mm/yyyy" },
	{ .name = "ngay_ban_hang_iso", .type = S, .description = "yyyy-mm-dd" },
	{ .name = "ngay_duyet", .type = S },
	{ .name = "trang_thai", .type = S, .description = "da_duyet" },
	{ .name = "phien_ban",
	  .type = N,
	  .description = "version, +1 per edit" },
	{ .name = "sua_sau_duyet",
	  .type = B,
	  .description = "edited after approval" },
	{ .name = "tong_tien_hang", .type = N },
	{ .name = "tong_chiet_khau", .type = N },
	{ .name = "tong_tien_thue", .type = N },
	{ .name = "tong_thanh_toan", .type = N },
	{ .name = "kiem_tra_tong",
	  .type = ANY,
	  .description = "null, or why the totals do not follow the lines "
			 "(B10)" },
	{ .name = "lines",
	  .type = A,
	  .description = "stt, ma_sp, ten_sp, ma_dvt, so_luong, don_gia, "
			 "thanh_tien, ty_le_chiet_khau, chiet_khau_tien, "
			 "thue_suat, tien_thue, tong_cong, is_km, ma_kho" },
	{ .name = "thay_doi",
	  .type = A,
	  .description = "order.edited: what changed since the approval" },
	{ .name = "thay_doi_text",
	  .type = S,
	  .description = "the same, one line" },
	{ .name = "ma_don_goc",
	  .type = ANY,
	  .description = "returns: the order" },
	{ .name = "ly_do", .type = S, .description = "returns: why" },
	{ .name = "hinh_thuc_xu_ly",
	  .type = S,
	  .description = "returns: nhap_kho or giam_tru_cong_no" },
	{ .name = "ngay_tra", .type = S, .description = "returns" },
	{ .name = "ngay_tra_iso", .type = S, .description = "returns" },
	{ 0 }
};

static const char order_sample[] =
	"{\"ma_phieu\":\"DH001001\",\"id_phieu\":500002,\"ma_kh\":\"KH0001\","
	"\"ten_kh\":\"Công ty TNHH Phân phối Hưng Thịnh\",\"ma_nv_dat\":"
	"\"NVBH01\",\"ma_kho_xuat\":\"Hà Nội\",\"hinh_thuc_thanh_toan\":"
	"\"Công nợ\",\"ngay_ban_hang\":\"20/06/2025\",\"ngay_ban_hang_iso\":"
	"\"2025-06-20\",\"trang_thai\":\"da_duyet\",\"phien_ban\":1,"
	"\"sua_sau_duyet\":false,\"tong_tien_hang\":960000,"
	"\"tong_chiet_khau\":0,\"tong_tien_thue\":96000,\"tong_thanh_toan\":"
	"1056000,\"kiem_tra_tong\":null,\"lines\":[{\"stt\":1,\"ma_sp\":"
	"\"SP001\",\"ma_dvt\":\"Thùng\",\"so_luong\":10,\"don_gia\":96000,"
	"\"thanh_tien\":960000,\"chiet_khau_tien\":0,\"thue_suat\":10,"
	"\"tien_thue\":96000,\"tong_cong\":1056000,\"is_km\":false,"
	"\"ma_kho\":\"Hà Nội\"}]}";

static const struct luong_event_def dms_events[] = {
	{ .name = "outlet.created",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an outlet added (or corrected later: the same id "
			 "with new content); id = ma_kh",
	  .fields = outlet_fields,
	  .sample = outlet_sample },
	{ .name = "order.approved",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an order approved (not merely entered), again with "
			 "its new content when edited after approval; id = "
			 "ma_phieu",
	  .fields = order_fields,
	  .sample = order_sample },
	{ .name = "order.edited",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an approved order edited, with what changed "
			 "(thay_doi); id = ma_phieu@phien_ban",
	  .fields = order_fields },
	{ .name = "return.approved",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a return approved; id = ma_phieu",
	  .fields = order_fields },
	{ .name = "outlet.created.poll",
	  .kind = LUONG_EVENT_POLL,
	  .description = "outlets added, read by day (no webhooks needed)",
	  .poll = dms_poll_outlets,
	  .default_interval_s = 600,
	  .fields = outlet_fields },
	{ .name = "order.approved.poll",
	  .kind = LUONG_EVENT_POLL,
	  .description = "approved orders, read by update day (no webhooks "
			 "needed); an edited one comes again",
	  .poll = dms_poll_orders,
	  .default_interval_s = 120,
	  .fields = order_fields },
	{ .name = "return.approved.poll",
	  .kind = LUONG_EVENT_POLL,
	  .description = "approved returns, read by day (no webhooks needed)",
	  .poll = dms_poll_returns,
	  .default_interval_s = 600,
	  .fields = order_fields },
	{ 0 }
};

static const struct luong_field_def product_inputs[] = {
	{ .name = "ma_sp",
	  .type = S,
	  .flags = REQ,
	  .description = "product code" },
	{ .name = "ten_sp", .type = S, .description = "name (new products)" },
	{ .name = "dvt_chan", .type = ANY, .description = "large unit" },
	{ .name = "dvt_le",
	  .type = S,
	  .description = "small unit (new products)" },
	{ .name = "hsqd",
	  .type = N,
	  .description = "small units per large one" },
	{ .name = "gia_ban", .type = N, .description = "price" },
	{ .name = "thue_vat", .type = N, .description = "VAT percent" },
	{ .name = "nhom_sp", .type = S, .description = "group code" },
	{ .name = "ten_nhom_sp", .type = S },
	{ .name = "nhan_hieu", .type = S, .description = "brand" },
	{ .name = "ma_vach", .type = S },
	{ .name = "trang_thai", .type = N, .description = "1 on sale, 0 not" },
	{ 0 }
};

static const struct luong_field_def stock_inputs[] = {
	{ .name = "ma_kho",
	  .type = S,
	  .flags = REQ,
	  .description = "DMS warehouse" },
	{ .name = "ma_sp", .type = S, .flags = REQ },
	{ .name = "so_luong",
	  .type = N,
	  .flags = REQ,
	  .description = "balance" },
	{ .name = "ngay_chot", .type = S, .description = "dd/mm/yyyy (today)" },
	{ 0 }
};

static const struct luong_field_def debt_inputs[] = {
	{ .name = "ma_kh", .type = S, .flags = REQ },
	{ .name = "du_no_cuoi_ky",
	  .type = N,
	  .flags = REQ,
	  .description = "ending balance, VND" },
	{ .name = "ngay_chot", .type = S, .description = "dd/mm/yyyy (today)" },
	{ 0 }
};

static const struct luong_field_def status_inputs[] = {
	{ .name = "ma_phieu", .type = S, .flags = REQ },
	{ .name = "trang_thai_ke_toan",
	  .type = S,
	  .flags = REQ,
	  .description = "what accounting did, in words" },
	{ .name = "so_chung_tu", .type = ANY, .description = "MISA's number" },
	{ .name = "ghi_chu", .type = ANY },
	{ 0 }
};

static const struct luong_field_def push_outputs[] = {
	{ .name = "ket_qua", .type = S, .description = "tao_moi or cap_nhat" },
	{ 0 }
};

static const struct luong_field_def read_inputs[] = {
	{ .name = "resource",
	  .type = S,
	  .flags = REQ,
	  .description = "Customer, Product, Sale, SaleGroup, Warehouse, "
			 "Inventory, CustomerDebt, Route" },
	{ .name = "filters",
	  .type = LUONG_FIELD_OBJECT,
	  .description = "query filters, e.g. {\"status\": 1}" },
	{ 0 }
};

static const struct luong_field_def read_outputs[] = {
	{ .name = "rows", .type = A },
	{ .name = "count", .type = LUONG_FIELD_INTEGER },
	{ 0 }
};

static const struct luong_action_def dms_actions[] = {
	{ .name = "save_product",
	  .description = "create or update a product (upsert by ma_sp)",
	  .perform = dms_save_product,
	  .inputs = product_inputs,
	  .outputs = push_outputs },
	{ .name = "set_stock",
	  .description = "set a product's stock in a warehouse",
	  .perform = dms_set_stock,
	  .inputs = stock_inputs,
	  .outputs = push_outputs },
	{ .name = "set_debt",
	  .description = "set an outlet's ending debt balance",
	  .perform = dms_set_debt,
	  .inputs = debt_inputs,
	  .outputs = push_outputs },
	{ .name = "set_order_status",
	  .description = "show accounting's status on an order (never its "
			 "approval)",
	  .check = dms_check_order_status,
	  .perform = dms_set_order_status,
	  .inputs = status_inputs,
	  .outputs = push_outputs },
	{ .name = "read_catalogue",
	  .description = "read a catalogue, every page",
	  .perform = dms_read_catalogue,
	  .inputs = read_inputs,
	  .outputs = read_outputs },
	{ 0 }
};

/* apis.md §5: no documented limit; clients back off ~1.3 s on 429. None
 * is declared: a 429's Retry-After holds the connection (the host). */
static const struct luong_plugin dms_plugin = {
	LUONG_PLUGIN_HEADER,
	.name = "mobiwork-dms",
	.version = "1.0.0",
	.description = "MobiWork DMS (OpenAPI V1): outlets, approved orders "
		       "and returns in; products, stock, debt and order "
		       "status out",
	.config = dms_config,
	.events = dms_events,
	.actions = dms_actions,
	.init = dms_init,
	.fini = dms_fini,
	.webhook = dms_webhook,
};

LUONG_EXPORT const struct luong_plugin *luong_plugin_entry(void)
{
	return &dms_plugin;
}
