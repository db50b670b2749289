/*
 * sink_main.c - `luong-test-sink`: the test sink as a program, for the
 * bench and for trying flows by hand. Writes its port to the given file
 * and runs until SIGTERM. GET /_stats gives counts and latency.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	unsigned port = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	struct sink *s;
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: luong-test-sink PORT_FILE [PORT]\n");
		return 2;
	}
	s = sink_start(port);
	if (!s) {
		fprintf(stderr, "luong-test-sink: cannot listen\n");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "%u\n", sink_port(s));
	fclose(f);
	while (!stop)
		pause();
	sink_stop(s);
	return 0;
}
