/*
 * console.c - serves the web console's files under / (index.html) and
 * /console/. The page talks to the admin API only; its policy lets it
 * run nothing but its own script, so text a document brings can never
 * run even if it slipped into the page as markup.
 */
#include <string.h>

#include "console_files.h"
#include "server_int.h"
#include "util.h"

static const struct console_asset *find(const char *url)
{
	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		url = "/console/index.html";
	for (size_t i = 0; i < console_n_assets; i++)
		if (!strcmp(console_assets[i].path, url))
			return &console_assets[i];
	return NULL;
}

bool console_file(const char *url)
{
	return find(url) != NULL;
}

static const char *type_of(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < ARRAY_SIZE(types); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

void console_serve(struct req *rq)
{
	const struct console_asset *f = find(rq->url);
	char *body = xmalloc(f->len + 1);

	memcpy(body, f->data, f->len);
	send_text(&rq->ans, 200, type_of(f->path), body, f->len);
	answer_header(&rq->ans, "Content-Security-Policy",
		      "default-src 'none'; script-src 'self'; "
		      "style-src 'self'; img-src 'self' data:; "
		      "connect-src 'self'; form-action 'self'; "
		      "base-uri 'none'; frame-ancestors 'none'");
	answer_header(&rq->ans, "X-Content-Type-Options", "nosniff");
	answer_header(&rq->ans, "X-Frame-Options", "DENY");
	answer_header(&rq->ans, "Referrer-Policy", "no-referrer");
	answer_header(&rq->ans, "Cache-Control", "no-cache");
}
