/*
 * abi_asserts.c - pins the layout of the public ABI 1.0-1.2 structs.
 *
 * A plugin built against an older SDK is read by a newer host through
 * these offsets, so a reordered, retyped or inserted member must fail the
 * build here. When a member is appended (a minor bump), pin its offset
 * and update the struct's size; never change a line that is already here.
 * The numbers are those of the LP64 targets the host ships for.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <luong/luong.h>

_Static_assert(sizeof(void *) == 8 && sizeof(size_t) == 8 && sizeof(long) == 8,
	       "offsets below are pinned for LP64");

#define PIN_SIZE(type, size)                                                   \
	_Static_assert(sizeof(struct type) == (size),                          \
		       "size of struct " #type " changed")
#define PIN(type, member, off)                                                 \
	_Static_assert(offsetof(struct type, member) == (off),                 \
		       "struct " #type "." #member " moved")
#define PIN_WIDTH(type, member, width)                                         \
	_Static_assert(sizeof(((struct type *)0)->member) == (width),          \
		       "struct " #type "." #member " changed its type")

/* ---- numbers a plugin is compiled with ---- */
_Static_assert(LUONG_ABI_MAJOR == 1, "ABI major changed");
_Static_assert(LUONG_ABI_MINOR >= 2, "ABI minor went back");
_Static_assert(LUONG_OK == 0 && LUONG_PENDING == 1 && LUONG_E_INVAL == -1 &&
		       LUONG_E_NOMEM == -2 && LUONG_E_CONFIG == -3 &&
		       LUONG_E_AUTH == -4 && LUONG_E_TRANSIENT == -5 &&
		       LUONG_E_REMOTE == -6 && LUONG_E_TIMEOUT == -7 &&
		       LUONG_E_UNSUPPORTED == -8 && LUONG_E_ABI == -9 &&
		       LUONG_E_INTERNAL == -10 && LUONG_E_NOTFOUND == -11 &&
		       LUONG_NOT_POSTED == 2 && LUONG_E_NUMBER_TAKEN == -12,
	       "status codes are never renumbered");
_Static_assert(LUONG_CFG_STRING == 1 && LUONG_CFG_INT == 2 &&
		       LUONG_CFG_BOOL == 3 && LUONG_CFG_URL == 4 &&
		       LUONG_CFG_SECRET == 5 && LUONG_CFG_REQUIRED == 1,
	       "config types are never renumbered");
_Static_assert(LUONG_EVENT_WEBHOOK == 1 && LUONG_EVENT_POLL == 2, "event kinds "
								  "are never "
								  "renumbered");
_Static_assert(LUONG_LOG_ERROR == 1 && LUONG_LOG_WARN == 2 &&
		       LUONG_LOG_INFO == 3 && LUONG_LOG_DEBUG == 4,
	       "log levels are never renumbered");
_Static_assert(LUONG_PLUGIN_SERIAL == 1 && LUONG_CALL_IGNORE_WARNINGS == 1,
	       "flags are never renumbered");
_Static_assert(LUONG_CALL_UPDATE == 2, "flags are never renumbered");

/* ---- plugin.h (1.0) ---- */
PIN_SIZE(luong_plugin, 96);
PIN(luong_plugin, abi_major, 0);
PIN_WIDTH(luong_plugin, abi_major, 2);
PIN(luong_plugin, abi_minor, 2);
PIN_WIDTH(luong_plugin, abi_minor, 2);
PIN(luong_plugin, struct_size, 4);
PIN_WIDTH(luong_plugin, struct_size, 4);
PIN(luong_plugin, name, 8);
PIN(luong_plugin, version, 16);
PIN(luong_plugin, description, 24);
PIN(luong_plugin, flags, 32);
PIN_WIDTH(luong_plugin, flags, 4);
PIN(luong_plugin, config, 40);
PIN(luong_plugin, events, 48);
PIN(luong_plugin, actions, 56);
PIN(luong_plugin, init, 64);
PIN(luong_plugin, fini, 72);
PIN(luong_plugin, webhook, 80);
/* 1.2 */
PIN(luong_plugin, rate_limit, 88);

PIN_SIZE(luong_rate_limit, 24);
PIN(luong_rate_limit, struct_size, 0);
PIN_WIDTH(luong_rate_limit, struct_size, 4);
PIN(luong_rate_limit, burst, 4);
PIN_WIDTH(luong_rate_limit, burst, 4);
PIN(luong_rate_limit, per_second, 8);
PIN_WIDTH(luong_rate_limit, per_second, 8);
PIN(luong_rate_limit, usage_header, 16);

/* {0}-terminated tables: config and event rows frozen within a major
 * version; action rows read at the size of the plugin's minor */
PIN_SIZE(luong_config_field, 32);
PIN(luong_config_field, name, 0);
PIN(luong_config_field, type, 8);
PIN_WIDTH(luong_config_field, type, 4);
PIN(luong_config_field, flags, 12);
PIN_WIDTH(luong_config_field, flags, 4);
PIN(luong_config_field, default_value, 16);
PIN(luong_config_field, description, 24);

PIN_SIZE(luong_event_def, 64); /* 1.1: 40 */
PIN(luong_event_def, name, 0);
PIN(luong_event_def, kind, 8);
PIN_WIDTH(luong_event_def, kind, 4);
PIN(luong_event_def, description, 16);
PIN(luong_event_def, poll, 24);
PIN(luong_event_def, default_interval_s, 32);
PIN_WIDTH(luong_event_def, default_interval_s, 4);
PIN(luong_event_def, fields, 40); /* 1.2 */
PIN(luong_event_def, sample, 48); /* 1.2 */
PIN(luong_event_def, fetch, 56);  /* 1.2 */
_Static_assert(LUONG_EVENT_DEF_V1_0_SIZE == 40, "1.1 event rows are 40");
PIN_SIZE(luong_field_def, 24); /* 1.2 */
PIN(luong_field_def, name, 0);
PIN(luong_field_def, type, 8);
PIN(luong_field_def, flags, 12);
PIN(luong_field_def, description, 16);
_Static_assert(LUONG_FIELD_ANY == 0 && LUONG_FIELD_STRING == 1 &&
		       LUONG_FIELD_NUMBER == 2 && LUONG_FIELD_INTEGER == 3 &&
		       LUONG_FIELD_BOOL == 4 && LUONG_FIELD_OBJECT == 5 &&
		       LUONG_FIELD_ARRAY == 6 && LUONG_FIELD_REQUIRED == 1,
	       "field types are never renumbered");
PIN_SIZE(luong_action_args, 56); /* 1.2 */
PIN(luong_action_args, struct_size, 0);
PIN(luong_action_args, ctx, 8);
PIN(luong_action_args, host, 16);
PIN(luong_action_args, call, 24);
PIN(luong_action_args, state, 32);
PIN(luong_action_args, input, 40);
PIN(luong_action_args, output, 48);

/* 1.0 and 1.1 rows were 24 bytes (the host steps through old tables at
 * that size); 1.2 appended check */
PIN_SIZE(luong_action_def, 56); /* 1.1: 24 */
PIN(luong_action_def, name, 0);
PIN(luong_action_def, description, 8);
PIN(luong_action_def, run, 16);
PIN(luong_action_def, check, 24);
PIN(luong_action_def, inputs, 32);  /* 1.2 */
PIN(luong_action_def, outputs, 40); /* 1.2 */
PIN(luong_action_def, perform, 48); /* 1.2 */
_Static_assert(LUONG_ACTION_DEF_V1_0_SIZE == 24, "1.0 action rows moved");

PIN_SIZE(luong_webhook_request, 64);
PIN(luong_webhook_request, struct_size, 0);
PIN_WIDTH(luong_webhook_request, struct_size, 4);
PIN(luong_webhook_request, method, 8);
PIN(luong_webhook_request, path, 16);
PIN(luong_webhook_request, body, 24);
PIN(luong_webhook_request, body_len, 32);
PIN(luong_webhook_request, header, 40);
PIN(luong_webhook_request, query, 48);
PIN(luong_webhook_request, host_private, 56);

PIN_SIZE(luong_webhook_response, 88);
PIN(luong_webhook_response, struct_size, 0);
PIN(luong_webhook_response, status, 4);
PIN_WIDTH(luong_webhook_response, status, 4);
PIN(luong_webhook_response, content_type, 8);
PIN_WIDTH(luong_webhook_response, content_type, 64);
PIN(luong_webhook_response, body, 72);
PIN(luong_webhook_response, body_len, 80);

/* ---- host.h: every table starts with its struct_size ---- */
PIN_SIZE(luong_host, 104); /* 1.1: 88 */
PIN(luong_host, struct_size, 0);
PIN_WIDTH(luong_host, struct_size, 4);
PIN(luong_host, abi_major, 4);
PIN_WIDTH(luong_host, abi_major, 2);
PIN(luong_host, abi_minor, 6);
PIN_WIDTH(luong_host, abi_minor, 2);
PIN(luong_host, host_version, 8);
PIN(luong_host, mem, 16);
PIN(luong_host, log, 24);
PIN(luong_host, config, 32);
PIN(luong_host, http, 40);
PIN(luong_host, kv, 48);
PIN(luong_host, clock, 56);
PIN(luong_host, json, 64);
PIN(luong_host, events, 72);
PIN(luong_host, call, 80);
PIN(luong_host, links, 88);   /* 1.2 */
PIN(luong_host, helpers, 96); /* 1.2 */

PIN_SIZE(luong_mem_api, 32);
PIN(luong_mem_api, struct_size, 0);
PIN(luong_mem_api, alloc, 8);
PIN(luong_mem_api, free, 16);
PIN(luong_mem_api, strdup, 24);

PIN_SIZE(luong_log_api, 32); /* 1.1: 24 */
PIN(luong_log_api, struct_size, 0);
PIN(luong_log_api, log, 8);
PIN(luong_log_api, enabled, 16);
PIN(luong_log_api, fail, 24); /* 1.2 */

PIN_SIZE(luong_config_api, 40);
PIN(luong_config_api, struct_size, 0);
PIN(luong_config_api, get, 8);
PIN(luong_config_api, get_int, 16);
PIN(luong_config_api, get_bool, 24);
PIN(luong_config_api, connection, 32);

PIN_SIZE(luong_http_header, 16);
PIN(luong_http_header, name, 0);
PIN(luong_http_header, value, 8);

PIN_SIZE(luong_http_request, 64);
PIN(luong_http_request, struct_size, 0);
PIN(luong_http_request, method, 8);
PIN(luong_http_request, url, 16);
PIN(luong_http_request, headers, 24);
PIN(luong_http_request, n_headers, 32);
PIN(luong_http_request, body, 40);
PIN(luong_http_request, body_len, 48);
PIN(luong_http_request, timeout_ms, 56);
PIN_WIDTH(luong_http_request, timeout_ms, 4);

PIN_SIZE(luong_http_response, 304);
PIN(luong_http_response, struct_size, 0);
PIN(luong_http_response, status, 8);
PIN_WIDTH(luong_http_response, status, 8);
PIN(luong_http_response, body, 16);
PIN(luong_http_response, body_len, 24);
PIN(luong_http_response, headers, 32);
PIN(luong_http_response, n_headers, 40);
PIN(luong_http_response, error, 48);
PIN_WIDTH(luong_http_response, error, 256);

PIN_SIZE(luong_http_api, 32);
PIN(luong_http_api, struct_size, 0);
PIN(luong_http_api, request, 8);
PIN(luong_http_api, response_free, 16);
PIN(luong_http_api, response_header, 24);

PIN_SIZE(luong_kv_api, 32);
PIN(luong_kv_api, struct_size, 0);
PIN(luong_kv_api, get, 8);
PIN(luong_kv_api, put, 16);
PIN(luong_kv_api, del, 24);

PIN_SIZE(luong_clock_api, 24);
PIN(luong_clock_api, struct_size, 0);
PIN(luong_clock_api, now_ms, 8);
PIN(luong_clock_api, wall_ms, 16);

PIN_SIZE(luong_json_api, 40);
PIN(luong_json_api, struct_size, 0);
PIN(luong_json_api, parse, 8);
PIN(luong_json_api, print, 16);
PIN(luong_json_api, dup, 24);
PIN(luong_json_api, del, 32);

/* 1.0 ended after complete (24 bytes); 1.1 appended emit_sync */
PIN_SIZE(luong_events_api, 40);
PIN(luong_events_api, struct_size, 0);
PIN(luong_events_api, emit, 8);
PIN(luong_events_api, complete, 16);
PIN(luong_events_api, emit_sync, 24);
PIN(luong_events_api, request, 32);

/* 1.1 ended after retry_after (64 bytes); 1.2 appended two */
PIN_SIZE(luong_call_api, 88);
PIN(luong_call_api, struct_size, 0);
PIN(luong_call_api, ctx, 8);
PIN(luong_call_api, idempotency_key, 16);
PIN(luong_call_api, document_id, 24);
PIN(luong_call_api, attempt, 32);
PIN(luong_call_api, flags, 40);
PIN(luong_call_api, set_error, 48);
PIN(luong_call_api, retry_after, 56);
PIN(luong_call_api, version, 64);
PIN(luong_call_api, previous_output, 72);
PIN(luong_call_api, number_suffix, 80);

PIN_SIZE(luong_links_api, 16); /* 1.2 */
PIN(luong_links_api, struct_size, 0);
PIN(luong_links_api, find, 8);
PIN_SIZE(luong_helpers_api, 48); /* 1.2 */
PIN(luong_helpers_api, struct_size, 0);
PIN(luong_helpers_api, hmac_verify, 8);
PIN(luong_helpers_api, hmac_sign, 16);
PIN(luong_helpers_api, http_result, 24);
PIN(luong_helpers_api, retry_after_ms, 32);
PIN(luong_helpers_api, json_at, 40);
PIN_SIZE(luong_http_result_opts, 40); /* 1.2 */
PIN(luong_http_result_opts, struct_size, 0);
PIN(luong_http_result_opts, system, 8);
PIN(luong_http_result_opts, message_path, 16);
PIN(luong_http_result_opts, reauth, 24);
PIN(luong_http_result_opts, reauth_ud, 32);
_Static_assert(LUONG_SIG_HEX == 1 && LUONG_SIG_BASE64 == 2, "signature "
							    "encodings are "
							    "never renumbered");

static enum luong_status fake_emit_sync(struct luong_ctx *ctx,
					const char *event, const char *doc,
					cJSON *payload, cJSON **output,
					char **reason)
{
	return LUONG_OK;
}

/* At run time: LUONG_HAS must see a 1.0 table as lacking 1.1 members. */
int main(void)
{
	struct luong_events_api v10 = { .struct_size = 24,
					.emit_sync = fake_emit_sync };
	struct luong_events_api v11 = { .struct_size = sizeof(v11),
					.emit_sync = fake_emit_sync };
	struct luong_events_api unset = { .struct_size = sizeof(unset) };
	const struct luong_events_api *none = NULL;
	int bad = 0;

	bad += LUONG_HAS(&v10, emit_sync);
	bad += !LUONG_HAS(&v11, emit_sync);
	bad += LUONG_HAS(&unset, emit_sync);
	bad += LUONG_HAS(none, emit_sync);
	bad += strcmp(LUONG_ENTRY_SYMBOL, "luong_plugin_entry") != 0;
	if (bad)
		fprintf(stderr, "LUONG_HAS or the entry symbol is wrong\n");
	return bad ? 1 : 0;
}
