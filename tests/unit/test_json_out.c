// SPDX-License-Identifier: GPL-2.0
/* JSON Lines output (user/json_out.c): DESIGN.md section 3, parsed back with json-c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "json_out.h"
#include "utf8.h"

#define FFFD "\xef\xbf\xbd"

/* Strict UTF-8 (RFC 3629), written independently of json_out.c. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, len, k;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			len = 2, cp = s[i] & 0x1f;
		else if ((s[i] & 0xf0) == 0xe0)
			len = 3, cp = s[i] & 0x0f;
		else if ((s[i] & 0xf8) == 0xf0)
			len = 4, cp = s[i] & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/*
 * Writes r with json_write_report and checks the line: exactly one, ending
 * in '\n', no raw control bytes, valid UTF-8, a JSON object that json-c
 * parses both leniently and strictly (with UTF-8 validation).
 */
static json_object *write_and_parse(const struct lw_report *r)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	json_object *o, *strict;
	json_tokener *tok;

	assert_non_null(f);
	assert_int_equal(json_write_report(f, r), 0);
	fclose(f);
	assert_true(len > 2);
	assert_int_equal(buf[len - 1], '\n');
	for (i = 0; i + 1 < len; i++)
		if ((unsigned char)buf[i] < 0x20) {
			print_error("raw control byte 0x%02x at %zu in %s", buf[i], i, buf);
			fail();
		}
	if (!valid_utf8((const unsigned char *)buf, len)) {
		print_error("not UTF-8: %s", buf);
		fail();
	}

	o = json_tokener_parse(buf);
	if (!o)
		print_error("json-c cannot parse: %s", buf);
	assert_non_null(o);
	assert_true(json_object_is_type(o, json_type_object));

	tok = json_tokener_new();
	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	strict = json_tokener_parse_ex(tok, buf, (int)len - 1);
	if (!strict)
		print_error("strict parse: %s: %s",
			    json_tokener_error_desc(json_tokener_get_error(tok)), buf);
	assert_non_null(strict);
	json_object_put(strict);
	json_tokener_free(tok);
	free(buf);
	return o;
}

static json_object *field(json_object *o, const char *key, json_type type)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v)) {
		print_error("no \"%s\" in %s\n", key, json_object_to_json_string(o));
		fail();
	}
	if (!json_object_is_type(v, type)) {
		print_error("\"%s\" is a %s, not a %s\n", key,
			    json_type_to_name(json_object_get_type(v)), json_type_to_name(type));
		fail();
	}
	return v;
}

static const char *str(json_object *o, const char *key)
{
	return json_object_get_string(field(o, key, json_type_string));
}

static int64_t num(json_object *o, const char *key)
{
	return json_object_get_int64(field(o, key, json_type_int));
}

static double dbl(json_object *o, const char *key)
{
	return json_object_get_double(field(o, key, json_type_double));
}

static bool boolean(json_object *o, const char *key)
{
	return json_object_get_boolean(field(o, key, json_type_boolean));
}

static bool has(json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

static struct lw_wait futex_wait(void)
{
	struct lw_wait w = {
		.kind = "futex",
		.syscall = "futex",
		.has_futex = true,
		.futex_addr = 0x7f00deadbeefULL,
		.futex_op = "FUTEX_WAIT_BITSET_PRIVATE",
	};

	return w;
}

static struct lw_report stuck_report(const struct lw_wait *w)
{
	struct lw_report r = {
		.type = LW_RPT_STUCK,
		.ts = 1700000123.456789,
		.pid = 4242,
		.tid = 4243,
		.comm = "worker",
		.pcomm = "server",
		.state = 'S',
		.blocked_s = 12.3456,
		.since_exact = true,
		.wait = w,
	};

	return r;
}

/* ---- Each record type ---- */

static void test_stuck_fields_and_types(void **state)
{
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck_report(&w);
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "stuck");
	assert_float_equal(dbl(o, "ts"), 1700000123.456789, 1e-6);
	assert_int_equal(num(o, "pid"), 4242);
	assert_int_equal(num(o, "tid"), 4243);
	assert_string_equal(str(o, "comm"), "worker");
	assert_string_equal(str(o, "pcomm"), "server");
	assert_string_equal(str(o, "state"), "S");
	assert_float_equal(dbl(o, "blocked_s"), 12.346, 1e-9); /* 3 decimals */
	assert_true(boolean(o, "since_exact"));
	assert_string_equal(str(o, "wait"), "futex");
	assert_string_equal(str(o, "syscall"), "futex");
	assert_string_equal(str(o, "futex_addr"), "0x7f00deadbeef");
	assert_string_equal(str(o, "futex_op"), "FUTEX_WAIT_BITSET_PRIVATE");
	json_object_put(o);
}

static void test_stuck_inexact_and_d_state(void **state)
{
	struct lw_wait w = { .kind = "read", .syscall = "read" };
	struct lw_report r = stuck_report(&w);
	json_object *o;

	r.state = 'D';
	r.since_exact = false;
	o = write_and_parse(&r);
	assert_string_equal(str(o, "state"), "D");
	assert_false(boolean(o, "since_exact"));
	assert_string_equal(str(o, "wait"), "read");
	assert_false(has(o, "futex_addr"));
	assert_false(has(o, "futex_op"));
	json_object_put(o);
}

static void test_stuck_state_is_s_or_d(void **state)
{
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck_report(&w);
	json_object *o;

	r.state = 'R';
	o = write_and_parse(&r);
	assert_string_equal(str(o, "state"), "S");
	json_object_put(o);
	r.state = 0;
	o = write_and_parse(&r);
	assert_string_equal(str(o, "state"), "S");
	json_object_put(o);
}

static void test_stuck_outside_syscall_waits_in_kernel(void **state)
{
	struct lw_wait w = { 0 }; /* kind NULL, no syscall */
	struct lw_report r = stuck_report(&w);
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "wait"), "kernel");
	assert_false(has(o, "syscall"));
	assert_false(has(o, "futex_addr"));
	json_object_put(o);
}

static void test_ts_is_a_float_even_when_whole(void **state)
{
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck_report(&w);
	json_object *o;

	r.ts = 1700000000.0;
	r.blocked_s = 10.0;
	o = write_and_parse(&r);
	assert_float_equal(dbl(o, "ts"), 1700000000.0, 1e-9);
	assert_float_equal(dbl(o, "blocked_s"), 10.0, 1e-9);
	json_object_put(o);
}

static void test_unstuck_fields(void **state)
{
	struct lw_wait w = futex_wait();
	struct lw_report r = {
		.type = LW_RPT_UNSTUCK,
		.ts = 1700000200.5,
		.pid = 7,
		.tid = 8,
		.comm = "t",
		.pcomm = "p",
		.blocked_s = 23.5,
		.since_exact = false,
		.end_exact = true,
		.wait = &w,
	};
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "unstuck");
	assert_float_equal(dbl(o, "ts"), 1700000200.5, 1e-6);
	assert_int_equal(num(o, "pid"), 7);
	assert_int_equal(num(o, "tid"), 8);
	assert_float_equal(dbl(o, "blocked_s"), 23.5, 1e-9);
	assert_true(boolean(o, "end_exact"));
	assert_false(boolean(o, "since_exact"));
	assert_false(has(o, "state"));
	json_object_put(o);

	r.end_exact = false;
	o = write_and_parse(&r);
	assert_false(boolean(o, "end_exact"));
	json_object_put(o);
}

static void test_sample_fields(void **state)
{
	struct lw_report r = {
		.type = LW_RPT_SAMPLE,
		.ts = 1700000001.25,
		.pid = 99,
		.pcomm = "db",
		.threads = 120,
		.blocked = 100,
		.stuck = 3,
	};
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "sample");
	assert_float_equal(dbl(o, "ts"), 1700000001.25, 1e-6);
	assert_int_equal(num(o, "pid"), 99);
	assert_string_equal(str(o, "pcomm"), "db");
	assert_int_equal(num(o, "threads"), 120);
	assert_int_equal(num(o, "blocked"), 100);
	assert_int_equal(num(o, "stuck"), 3);
	assert_false(has(o, "tid"));
	json_object_put(o);
}

static void test_exit_fields(void **state)
{
	struct lw_report r = { .type = LW_RPT_EXIT, .ts = 1700000002.0, .pid = 4000000 };
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "exit");
	assert_int_equal(num(o, "pid"), 4000000);
	assert_string_equal(str(o, "pcomm"), ""); /* NULL name: empty */
	dbl(o, "ts");
	json_object_put(o);
}

static void test_summary_dropped_is_sum_of_drops(void **state)
{
	struct lw_drops d = {
		.ringbuf = 1, .task_storage = 20, .targets = 300, .tracker = 4000,
		.unstuck_inexact = 7,
	};
	struct lw_report r = {
		.type = LW_RPT_SUMMARY,
		.ts = 1700000300.0,
		.duration_s = 61.5,
		.events = 123456789012ULL,
		.drops = &d,
	};
	json_object *o = write_and_parse(&r), *drops;

	assert_string_equal(str(o, "type"), "summary");
	assert_float_equal(dbl(o, "duration_s"), 61.5, 1e-9);
	assert_int_equal(num(o, "events"), 123456789012LL);
	assert_int_equal(num(o, "dropped"), 4321);
	drops = field(o, "drops", json_type_object);
	assert_int_equal(num(drops, "ringbuf"), 1);
	assert_int_equal(num(drops, "task_storage"), 20);
	assert_int_equal(num(drops, "targets"), 300);
	assert_int_equal(num(drops, "tracker"), 4000);
	assert_int_equal(num(o, "unstuck_inexact"), 7);
	json_object_put(o);
}

static void test_summary_without_drops(void **state)
{
	struct lw_report r = { .type = LW_RPT_SUMMARY, .ts = 1.0, .duration_s = 2.0 };
	json_object *o = write_and_parse(&r);

	assert_int_equal(num(o, "dropped"), 0);
	assert_int_equal(num(o, "events"), 0);
	json_object_put(o);
}

static void test_several_reports_several_lines(void **state)
{
	struct lw_wait w = futex_wait();
	struct lw_report a = stuck_report(&w);
	struct lw_report b = { .type = LW_RPT_EXIT, .ts = 1.0, .pid = 1 };
	char *buf = NULL, *nl;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_object *o;

	json_emit(f, &a);
	json_emit(f, &b);
	fclose(f);
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	assert_string_equal(strchr(nl + 1, '\n'), "\n");
	*nl = '\0';
	o = json_tokener_parse(buf);
	assert_non_null(o);
	assert_string_equal(str(o, "type"), "stuck");
	json_object_put(o);
	o = json_tokener_parse(nl + 1);
	assert_non_null(o);
	assert_string_equal(str(o, "type"), "exit");
	json_object_put(o);
	free(buf);
}

static void test_write_error_is_eio(void **state)
{
	struct lw_report r = { .type = LW_RPT_EXIT, .ts = 1.0, .pid = 1 };
	FILE *f = fopen("/dev/null", "r");

	assert_non_null(f);
	assert_int_equal(json_write_report(f, &r), -EIO);
	fclose(f);
}

/* ---- Names: any bytes in, valid JSON and UTF-8 out ---- */

static char *comm_through_json(const char *comm)
{
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck_report(&w);
	json_object *o;
	char *out;

	r.comm = comm;
	o = write_and_parse(&r);
	out = strdup(str(o, "comm"));
	json_object_put(o);
	return out;
}

#define ASSERT_COMM_BECOMES(in, want)                  \
	do {                                           \
		char *got_ = comm_through_json(in);    \
		assert_string_equal(got_, want);       \
		free(got_);                            \
	} while (0)

static void test_escapes_quote_backslash_and_controls(void **state)
{
	ASSERT_COMM_BECOMES("a\"b\\c", "a\"b\\c");
	ASSERT_COMM_BECOMES("line\nbreak\ttab", "line\nbreak\ttab");
	ASSERT_COMM_BECOMES("\x01\x1f\x7f", "\x01\x1f\x7f");
	ASSERT_COMM_BECOMES("a/b", "a/b");
}

static void test_invalid_utf8_bytes_become_replacement(void **state)
{
	ASSERT_COMM_BECOMES("a\xff" "b", "a" FFFD "b");
	ASSERT_COMM_BECOMES("\xc3", FFFD);                     /* lead byte alone */
	ASSERT_COMM_BECOMES("\xc3(", FFFD "(");                /* lead, no continuation */
	ASSERT_COMM_BECOMES("\xc0\xaf", FFFD FFFD);            /* overlong '/' */
	ASSERT_COMM_BECOMES("\xe0\x80\xaf", FFFD FFFD FFFD);   /* overlong, 3 bytes */
	ASSERT_COMM_BECOMES("\xed\xa0\x80", FFFD FFFD FFFD);   /* surrogate U+D800 */
	ASSERT_COMM_BECOMES("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* > U+10FFFF */
	ASSERT_COMM_BECOMES("\x80x", FFFD "x");                /* stray continuation */
	ASSERT_COMM_BECOMES("\xe6\x97", FFFD FFFD);            /* truncated 日 */
}

static void test_valid_multibyte_names_kept(void **state)
{
	ASSERT_COMM_BECOMES("\xc3\xb1", "\xc3\xb1");                   /* ñ */
	ASSERT_COMM_BECOMES("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac"); /* 日本 */
	ASSERT_COMM_BECOMES("\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!");   /* U+1F600 */
	ASSERT_COMM_BECOMES("\xef\xbf\xbd", "\xef\xbf\xbd");           /* U+FFFD itself */
}

static void test_pcomm_sanitized_in_sample(void **state)
{
	struct lw_report r = {
		.type = LW_RPT_SAMPLE, .ts = 1.0, .pid = 2, .pcomm = "\"p\xff\n",
	};
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "pcomm"), "\"p" FFFD "\n");
	json_object_put(o);
}

/* ---- utf8_sanitize directly ---- */

/* The input has no NUL and sits at the end of its allocation: ASan and
 * valgrind catch a read past len. */
static void test_sanitize_16_bytes_without_nul(void **state)
{
	char *in = malloc(16), out[3 * 16 + 1];

	assert_non_null(in);
	memcpy(in, "abcdefghijklmnop", 16);
	utf8_sanitize(in, 16, out);
	assert_string_equal(out, "abcdefghijklmnop");

	memset(in, 0xff, 16);
	utf8_sanitize(in, 16, out);
	assert_int_equal(strlen(out), 3 * 16); /* the worst case fits */
	for (size_t i = 0; i < 16; i++)
		assert_memory_equal(out + 3 * i, FFFD, 3);

	/* A sequence cut by the end of the buffer, not read beyond. */
	memcpy(in, "abcdefghijklm\xf0\x9f\x98", 16);
	utf8_sanitize(in, 16, out);
	assert_string_equal(out, "abcdefghijklm" FFFD FFFD FFFD);
	memcpy(in, "abcdefghijklmn\xe6\x97", 16);
	utf8_sanitize(in, 16, out);
	assert_string_equal(out, "abcdefghijklmn" FFFD FFFD);
	free(in);
}

static void test_sanitize_len_is_respected(void **state)
{
	char out[32];

	memset(out, 'x', sizeof(out));
	utf8_sanitize("hello world", 5, out);
	assert_string_equal(out, "hello");
	utf8_sanitize("", 0, out);
	assert_string_equal(out, "");
	/* A valid 2-byte sequence cut after its lead byte. */
	utf8_sanitize("\xc3\xb1", 1, out);
	assert_string_equal(out, FFFD);
}

static void test_sanitize_output_always_valid(void **state)
{
	unsigned char in[8];
	char out[3 * sizeof(in) + 1];
	uint32_t x = 12345;
	int i, k;

	/* Random bytes, biased towards UTF-8 lead and continuation bytes. */
	for (i = 0; i < 20000; i++) {
		for (k = 0; k < (int)sizeof(in); k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			in[k] = (x & 3) ? 0x80 | (x >> 8 & 0x7f) : (x >> 8 & 0xff);
		}
		utf8_sanitize((const char *)in, sizeof(in), out);
		assert_true(strlen(out) <= 3 * sizeof(in));
		if (!valid_utf8((const unsigned char *)out, strlen(out))) {
			print_error("invalid output for %02x %02x %02x %02x %02x %02x %02x %02x\n",
				    in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7]);
			fail();
		}
	}
}

/* Valid input comes out byte for byte. */
static void test_sanitize_valid_input_unchanged(void **state)
{
	static const char *const valid[] = {
		"plain", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
		"\xf4\x8f\xbf\xbf", "\xee\x80\x80",
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		utf8_sanitize(valid[i], strlen(valid[i]), out);
		assert_string_equal(out, valid[i]);
	}
}

/* ---- Sites, leaks, spins ---- */

static struct lw_site *make_site(void)
{
	struct lw_site *site = calloc(1, sizeof(*site));

	assert_non_null(site);
	site->id = 3;
	snprintf(site->name, sizeof(site->name), "3");
	site->pid = 4242;
	snprintf(site->kind, sizeof(site->kind), "futex");
	snprintf(site->syscall, sizeof(site->syscall), "futex");
	site->user.n = 2;
	snprintf(site->user.frames[0], LW_FRAME_TEXT, "pthread_cond_wait+0x1a (libc.so.6)");
	snprintf(site->user.frames[1], LW_FRAME_TEXT, "worker_main+0x42 (server)");
	site->kernel.n = 1;
	snprintf(site->kernel.frames[0], LW_FRAME_TEXT, "futex_wait_queue+0x60/0xa0");
	return site;
}

static void assert_string_array(json_object *o, const char *key, size_t n,
				const char *const *want)
{
	json_object *a = field(o, key, json_type_array);
	size_t i;

	assert_int_equal(json_object_array_length(a), n);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);

		assert_true(json_object_is_type(e, json_type_string));
		assert_string_equal(json_object_get_string(e), want[i]);
	}
}

static void test_stuck_names_its_site(void **state)
{
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck_report(&w);
	struct lw_site *site = make_site();
	json_object *o;

	r.site = site;
	o = write_and_parse(&r);
	assert_string_equal(str(o, "site"), "3");
	assert_string_equal(str(o, "wait"), "futex");
	json_object_put(o);
	free(site);
}

static void test_site_record(void **state)
{
	static const char *const user[] = { "pthread_cond_wait+0x1a (libc.so.6)",
					    "worker_main+0x42 (server)" };
	static const char *const kernel[] = { "futex_wait_queue+0x60/0xa0" };
	struct lw_site *site = make_site();
	struct lw_report r = {
		.type = LW_RPT_SITE, .ts = 1700000000.5, .pid = 4242, .pcomm = "server", .site = site,
	};
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "site");
	assert_int_equal(num(o, "pid"), 4242);
	assert_string_equal(str(o, "pcomm"), "server");
	assert_string_equal(str(o, "site"), "3");
	assert_string_equal(str(o, "wait"), "futex");
	assert_string_equal(str(o, "syscall"), "futex");
	assert_string_array(o, "stack", 2, user);
	assert_string_array(o, "kstack", 1, kernel);
	json_object_put(o);
	free(site);
}

/* frames beside stack: {func, file, line, module, offset, inlined, kind, pc},
 * unknown parts null; where for a site of threads. */
static void test_site_frames_structured(void **state)
{
	struct lw_site *site = make_site();
	struct lw_report r = {
		.type = LW_RPT_SITE, .ts = 1700000000.5, .pid = 4242, .pcomm = "server", .site = site,
	};
	json_object *o, *a, *f, *v;

	lw_frame_unknown(&site->user.info[0], LW_FRAME_NATIVE, 0x401083, "server");
	snprintf(site->user.info[0].func, LW_FUNC_TEXT, "chan_send");
	snprintf(site->user.info[0].file, LW_FILE_TEXT, "/src/query.c");
	site->user.info[0].line = 14;
	site->user.info[0].offset = 0x83;
	site->user.info[0].inlined = true;
	lw_frame_unknown(&site->user.info[1], LW_FRAME_JIT, 0x7f0000001000, NULL);
	snprintf(site->where, sizeof(site->where), "chan_send (query.c:14) inlined into query");
	o = write_and_parse(&r);
	assert_string_equal(str(o, "where"), "chan_send (query.c:14) inlined into query");
	a = field(o, "frames", json_type_array);
	assert_int_equal(json_object_array_length(a), 2);
	f = json_object_array_get_idx(a, 0);
	assert_string_equal(str(f, "func"), "chan_send");
	assert_string_equal(str(f, "file"), "/src/query.c");
	assert_int_equal(num(f, "line"), 14);
	assert_string_equal(str(f, "module"), "server");
	assert_int_equal(num(f, "offset"), 0x83);
	assert_true(json_object_get_boolean(field(f, "inlined", json_type_boolean)));
	assert_string_equal(str(f, "kind"), "native");
	assert_string_equal(str(f, "pc"), "0x401083");
	f = json_object_array_get_idx(a, 1);
	assert_string_equal(str(f, "kind"), "jit");
	assert_true(json_object_object_get_ex(f, "func", &v) && v == NULL);
	assert_true(json_object_object_get_ex(f, "line", &v) && v == NULL);
	assert_int_equal(json_object_array_length(field(o, "kframes", json_type_array)), 1);
	json_object_put(o);
	free(site);
}

/* DESIGN.md: leak has pid, pcomm, site, wait, stuck, growth_per_min, stack, kstack. */
static void test_leak_record(void **state)
{
	static const char *const user[] = { "pthread_cond_wait+0x1a (libc.so.6)",
					    "worker_main+0x42 (server)" };
	struct lw_site *site = make_site();
	struct lw_report r = {
		.type = LW_RPT_LEAK,
		.ts = 1700000060.0,
		.pid = 4242,
		.pcomm = "server",
		.site = site,
		.stuck = 17,
		.threads = 40,
		.growth_per_min = 5.4321,
	};
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "leak");
	dbl(o, "ts");
	assert_int_equal(num(o, "pid"), 4242);
	assert_string_equal(str(o, "pcomm"), "server");
	assert_string_equal(str(o, "site"), "3");
	assert_string_equal(str(o, "wait"), "futex");
	assert_int_equal(num(o, "stuck"), 17);
	assert_float_equal(dbl(o, "growth_per_min"), 5.43, 1e-9);
	assert_string_array(o, "stack", 2, user);
	field(o, "kstack", json_type_array);
	json_object_put(o);
	free(site);
}

static void test_leak_growth_is_float_even_when_whole(void **state)
{
	struct lw_site *site = make_site();
	struct lw_report r = {
		.type = LW_RPT_LEAK, .ts = 1.0, .pid = 1, .site = site, .stuck = 3,
		.growth_per_min = 2.0,
	};
	json_object *o = write_and_parse(&r);

	assert_float_equal(dbl(o, "growth_per_min"), 2.0, 1e-9);
	json_object_put(o);
	free(site);
}

/* DESIGN.md: spin has pid, tid, comm, running_s, stack. */
static void test_spin_record(void **state)
{
	static const char *const frames[] = { "busy_loop+0x8 (server)", FFFD "x" };
	struct lw_stack_text *st = calloc(1, sizeof(*st));
	struct lw_report r = {
		.type = LW_RPT_SPIN,
		.ts = 1700000000.0,
		.pid = 10,
		.tid = 11,
		.comm = "spinner",
		.pcomm = "server",
		.running_s = 12.25,
	};
	json_object *o;

	assert_non_null(st);
	st->n = 2;
	snprintf(st->frames[0], LW_FRAME_TEXT, "busy_loop+0x8 (server)");
	snprintf(st->frames[1], LW_FRAME_TEXT, "\xffx"); /* a raw byte from a symbol name */
	r.stack = st;
	o = write_and_parse(&r);
	assert_string_equal(str(o, "type"), "spin");
	assert_int_equal(num(o, "pid"), 10);
	assert_int_equal(num(o, "tid"), 11);
	assert_string_equal(str(o, "comm"), "spinner");
	assert_float_equal(dbl(o, "running_s"), 12.25, 1e-9);
	assert_string_array(o, "stack", 2, frames);
	json_object_put(o);
	free(st);
}

static void test_spin_without_stack_has_empty_list(void **state)
{
	struct lw_report r = {
		.type = LW_RPT_SPIN, .ts = 1.0, .pid = 10, .tid = 11, .comm = "s", .running_s = 10,
	};
	json_object *o = write_and_parse(&r);

	assert_string_array(o, "stack", 0, NULL);
	json_object_put(o);
}

static void test_summary_counts_unreadable_stacks_apart(void **state)
{
	struct lw_drops d = { .ringbuf = 2, .stacks_unreadable = 5, .kstacks_unreadable = 6,
			      .sites_untracked = 7 };
	struct lw_report r = { .type = LW_RPT_SUMMARY, .ts = 1.0, .drops = &d };
	json_object *o = write_and_parse(&r);

	assert_int_equal(num(o, "dropped"), 2);
	assert_int_equal(num(o, "stacks_unreadable"), 5);
	assert_int_equal(num(o, "kstacks_unreadable"), 6);
	assert_int_equal(num(o, "sites_untracked"), 7);
	json_object_put(o);
}

/* ---- Goroutine wiring (leakwatch.c): the go record, the sample's interval ---- */

static void test_go_record_readable(void **state)
{
	struct lw_report r = { .type = LW_RPT_GO, .ts = 1700000003.5, .pid = 77,
			       .pcomm = "server", .exe = "/srv/server", .go_version = "go1.21.3",
			       .go_layout = "table go1.21" };
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "go");
	assert_int_equal(num(o, "pid"), 77);
	assert_string_equal(str(o, "pcomm"), "server");
	assert_string_equal(str(o, "exe"), "/srv/server");
	assert_string_equal(str(o, "version"), "go1.21.3");
	assert_string_equal(str(o, "layout"), "table go1.21");
	assert_false(has(o, "error"));
	json_object_put(o);
}

static void test_go_record_unreadable(void **state)
{
	struct lw_report r = { .type = LW_RPT_GO, .ts = 1700000003.5, .pid = 78,
			       .go_version = "go1.30.1", .go_error = "no layout for go1.30\xff" };
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "go");
	assert_string_equal(str(o, "version"), "go1.30.1");
	assert_string_equal(str(o, "error"), "no layout for go1.30" FFFD);
	assert_string_equal(str(o, "exe"), "");
	assert_false(has(o, "layout"));
	json_object_put(o);
	/* Reasons and paths are longer than names: kept whole up to 256 bytes. */
	r.go_error = "no runtime.allgs: allgadd's LEAQ/MOVQ pattern not found in 0x1000 bytes "
		     "of runtime.allgadd (go1.30.1, stripped)";
	o = write_and_parse(&r);
	assert_string_equal(str(o, "error"), r.go_error);
	json_object_put(o);
}

static void test_sample_goroutine_scan_interval(void **state)
{
	struct lw_report r = { .type = LW_RPT_SAMPLE, .ts = 1700000001.0, .pid = 9, .go = true,
			       .goroutine_scan_interval_s = 4.0 };
	json_object *o = write_and_parse(&r);

	assert_float_equal(dbl(o, "goroutine_scan_interval_s"), 4.0, 1e-9);
	json_object_put(o);
	/* Not a Go process, or not read: no such field. */
	r.go = false;
	o = write_and_parse(&r);
	assert_false(has(o, "goroutine_scan_interval_s"));
	json_object_put(o);
	r.go = true;
	r.goroutine_scan_interval_s = 0;
	o = write_and_parse(&r);
	assert_false(has(o, "goroutine_scan_interval_s"));
	json_object_put(o);
}

/* ---- Goroutines ---- */

static struct lw_site *make_go_site(void)
{
	struct lw_site *site = calloc(1, sizeof(*site));

	assert_non_null(site);
	site->id = 5;
	snprintf(site->name, sizeof(site->name), "5");
	site->pid = 4242;
	snprintf(site->kind, sizeof(site->kind), "chan send");
	site->goroutine = true;
	snprintf(site->where, sizeof(site->where),
		 "chan send in main.queryAll.func1 (main.go:21), created by main.queryAll");
	snprintf(site->created_by, sizeof(site->created_by),
		 "main.queryAll (/home/someone/src/github.com/example/a-long-module-path/main.go:19)");
	site->user.n = 2;
	snprintf(site->user.frames[0], LW_FRAME_TEXT,
		 "runtime.gopark+0xce (/usr/local/go/src/runtime/proc.go:381)");
	snprintf(site->user.frames[1], LW_FRAME_TEXT, "main.queryAll.func1+0x50 (/src/main.go:21)");
	return site;
}

static struct lw_wait go_wait(void)
{
	return (struct lw_wait){ .kind = "chan send" };
}

/* DESIGN.md: a goroutine's stuck has goid (and tid only when on a thread),
 * wait = Go's wait reason, created_by. */
static void test_goroutine_stuck_fields(void **state)
{
	struct lw_wait w = go_wait();
	struct lw_site *site = make_go_site();
	struct lw_report r = {
		.type = LW_RPT_STUCK,
		.ts = 1700000123.5,
		.pid = 4242,
		.goid = 1234567890123ULL,
		.func = "main.queryAll.func1",
		.created_by = "main.queryAll (/src/main.go:19)",
		.comm = "",
		.pcomm = "server",
		.state = 'S',
		.blocked_s = 12.0,
		.since_exact = false,
		.wait = &w,
		.site = site,
	};
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "stuck");
	assert_int_equal(num(o, "pid"), 4242);
	assert_int_equal(num(o, "goid"), 1234567890123LL);
	assert_false(has(o, "tid"));
	assert_false(has(o, "comm"));
	assert_false(has(o, "state"));
	assert_string_equal(str(o, "pcomm"), "server");
	assert_string_equal(str(o, "wait"), "chan send");
	assert_false(has(o, "syscall"));
	assert_float_equal(dbl(o, "blocked_s"), 12.0, 1e-9);
	assert_false(boolean(o, "since_exact"));
	assert_string_equal(str(o, "func"), "main.queryAll.func1");
	assert_string_equal(str(o, "created_by"), "main.queryAll (/src/main.go:19)");
	assert_string_equal(str(o, "site"), "5");
	json_object_put(o);
	free(site);
}

static void test_goroutine_unstuck_fields(void **state)
{
	struct lw_wait w = go_wait();
	struct lw_report r = {
		.type = LW_RPT_UNSTUCK, .ts = 1.0, .pid = 4242, .goid = 7, .pcomm = "server",
		.blocked_s = 3.0, .wait = &w,
	};
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "unstuck");
	assert_int_equal(num(o, "goid"), 7);
	assert_false(has(o, "tid"));
	assert_false(has(o, "func"));
	assert_false(boolean(o, "end_exact"));
	assert_false(boolean(o, "since_exact"));
	assert_float_equal(dbl(o, "blocked_s"), 3.0, 1e-9);
	json_object_put(o);
}

/* A goroutine site names itself outside the runtime; long paths are kept. */
static void test_goroutine_site_and_leak_records(void **state)
{
	static const char *const stack[] = {
		"runtime.gopark+0xce (/usr/local/go/src/runtime/proc.go:381)",
		"main.queryAll.func1+0x50 (/src/main.go:21)",
	};
	struct lw_site *site = make_go_site();
	struct lw_report r = {
		.type = LW_RPT_SITE, .ts = 1.0, .pid = 4242, .goid = 31, .pcomm = "server",
		.site = site,
	};
	json_object *o = write_and_parse(&r);

	assert_string_equal(str(o, "type"), "site");
	assert_int_equal(num(o, "goid"), 31);
	assert_string_equal(str(o, "wait"), "chan send");
	assert_string_equal(str(o, "waiter"), "goroutine");
	assert_string_equal(str(o, "where"),
			    "chan send in main.queryAll.func1 (main.go:21), created by main.queryAll");
	assert_string_equal(str(o, "created_by"), site->created_by);
	assert_string_array(o, "stack", 2, stack);
	assert_string_array(o, "kstack", 0, NULL);
	json_object_put(o);

	r = (struct lw_report){
		.type = LW_RPT_LEAK, .ts = 2.0, .pid = 4242, .pcomm = "server", .site = site,
		.stuck = 300, .threads = 9, .go = true, .goroutines = 305, .growth_per_min = 60,
	};
	o = write_and_parse(&r);
	assert_string_equal(str(o, "type"), "leak");
	assert_int_equal(num(o, "stuck"), 300);
	assert_int_equal(num(o, "goroutines"), 305);
	assert_int_equal(num(o, "threads"), 9);
	assert_string_equal(str(o, "site"), "5");
	assert_string_equal(str(o, "wait"), "chan send");
	assert_string_equal(str(o, "where"), site->where);
	assert_string_array(o, "stack", 2, stack);
	assert_false(has(o, "goid"));
	json_object_put(o);
	free(site);
}

/* A thread site has none of the goroutine fields. */
static void test_thread_site_has_no_goroutine_fields(void **state)
{
	struct lw_site *site = make_site();
	struct lw_report r = {
		.type = LW_RPT_LEAK, .ts = 1.0, .pid = 4242, .site = site, .stuck = 3, .threads = 5,
	};
	json_object *o = write_and_parse(&r);

	assert_false(has(o, "where"));
	assert_false(has(o, "waiter"));
	assert_false(has(o, "goroutines"));
	json_object_put(o);
	free(site);
}

static void test_spin_joined_to_goroutine(void **state)
{
	struct lw_report r = {
		.type = LW_RPT_SPIN, .ts = 1.0, .pid = 10, .tid = 11, .comm = "server", .goid = 42,
		.func = "main.spin", .created_by = "main.main (/src/main.go:9)", .running_s = 10,
	};
	json_object *o = write_and_parse(&r);

	assert_int_equal(num(o, "tid"), 11);
	assert_int_equal(num(o, "goid"), 42);
	assert_string_equal(str(o, "func"), "main.spin");
	assert_string_equal(str(o, "created_by"), "main.main (/src/main.go:9)");
	json_object_put(o);

	r.goid = 0;
	o = write_and_parse(&r);
	assert_false(has(o, "goid"));
	json_object_put(o);
}

static void test_sample_of_go_process_has_goroutine_counts(void **state)
{
	struct lw_report r = {
		.type = LW_RPT_SAMPLE, .ts = 1.0, .pid = 10, .pcomm = "server", .threads = 8,
		.blocked = 6, .go = true, .goroutines = 100003, .goroutines_blocked = 100000,
		.goroutines_stuck = 99000,
	};
	json_object *o = write_and_parse(&r);

	assert_int_equal(num(o, "threads"), 8);
	assert_int_equal(num(o, "goroutines"), 100003);
	assert_int_equal(num(o, "goroutines_blocked"), 100000);
	assert_int_equal(num(o, "goroutines_stuck"), 99000);
	json_object_put(o);

	r.go = false;
	o = write_and_parse(&r);
	assert_false(has(o, "goroutines"));
	assert_false(has(o, "goroutines_stuck"));
	json_object_put(o);
}

static void test_summary_goroutine_counters(void **state)
{
	struct lw_drops d = { .gs_invalid = 1, .gs_unread = 2, .goroutine_stacks_moved = 3,
			      .goroutines_untracked = 4 };
	struct lw_report r = { .type = LW_RPT_SUMMARY, .ts = 1.0, .drops = &d };
	json_object *o = write_and_parse(&r);

	assert_int_equal(num(o, "gs_invalid"), 1);
	assert_int_equal(num(o, "gs_unread"), 2);
	assert_int_equal(num(o, "goroutine_stacks_moved"), 3);
	assert_int_equal(num(o, "goroutines_untracked"), 4);
	assert_int_equal(num(o, "dropped"), 0);
	json_object_put(o);
}

/* ---- Cgroups ---- */

#define CG_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CG_UID "1a2b3c4d-0000-4111-8222-abcdefabcdef"

/* Every record about a process: cgroup, and what its path names. */
static void test_cgroup_fields_on_process_records(void **state)
{
	static const enum lw_report_type types[] = { LW_RPT_STUCK, LW_RPT_UNSTUCK, LW_RPT_SITE,
						     LW_RPT_LEAK,  LW_RPT_SPIN,    LW_RPT_SAMPLE,
						     LW_RPT_EXIT,  LW_RPT_GO,      LW_RPT_PYTHON };
	const struct lw_cgroup k8s = { "/kubepods.slice/x/cri-containerd-" CG_ID ".scope", CG_ID,
				       "containerd", CG_UID, "" };
	struct lw_wait w = futex_wait();
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct lw_report r = stuck_report(&w);
		json_object *o;

		r.type = types[i];
		r.cgroup = &k8s;
		o = write_and_parse(&r);
		assert_string_equal(str(o, "cgroup"), k8s.path);
		assert_string_equal(str(o, "container"), CG_ID);
		assert_string_equal(str(o, "runtime"), "containerd");
		assert_string_equal(str(o, "pod"), CG_UID);
		assert_false(has(o, "unit")); /* unknown: absent */
		json_object_put(o);
	}
}

/* Unknown parts are absent; no cgroup at all: none of the fields. */
static void test_cgroup_fields_absent_when_unknown(void **state)
{
	const struct lw_cgroup unit = { "/system.slice/nginx.service", "", "", "", "nginx.service" };
	const struct lw_cgroup root = { "/", "", "", "", "" };
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck_report(&w);
	json_object *o;

	r.cgroup = &unit;
	o = write_and_parse(&r);
	assert_string_equal(str(o, "unit"), "nginx.service");
	assert_false(has(o, "container") || has(o, "runtime") || has(o, "pod"));
	json_object_put(o);
	r.cgroup = &root;
	o = write_and_parse(&r);
	assert_string_equal(str(o, "cgroup"), "/");
	assert_false(has(o, "unit"));
	json_object_put(o);
	r.cgroup = NULL;
	o = write_and_parse(&r);
	assert_false(has(o, "cgroup") || has(o, "container") || has(o, "pod") || has(o, "unit"));
	json_object_put(o);
	/* the summary has no process */
	r.type = LW_RPT_SUMMARY;
	r.cgroup = &unit;
	o = write_and_parse(&r);
	assert_false(has(o, "cgroup"));
	json_object_put(o);
}

/* A path is the process's (or a delegated subtree's) own naming: any
 * byte, made valid UTF-8, escaped. */
static void test_cgroup_path_sanitized(void **state)
{
	const struct lw_cgroup bad = { "/x\"\n\xff.slice", "", "", "", "" };
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck_report(&w);
	json_object *o;

	r.cgroup = &bad;
	o = write_and_parse(&r);
	assert_string_equal(str(o, "cgroup"), "/x\"\n" FFFD ".slice");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_fields_on_process_records),
		cmocka_unit_test(test_cgroup_fields_absent_when_unknown),
		cmocka_unit_test(test_cgroup_path_sanitized),
		cmocka_unit_test(test_go_record_readable),
		cmocka_unit_test(test_go_record_unreadable),
		cmocka_unit_test(test_sample_goroutine_scan_interval),
		cmocka_unit_test(test_stuck_fields_and_types),
		cmocka_unit_test(test_stuck_inexact_and_d_state),
		cmocka_unit_test(test_stuck_state_is_s_or_d),
		cmocka_unit_test(test_stuck_outside_syscall_waits_in_kernel),
		cmocka_unit_test(test_ts_is_a_float_even_when_whole),
		cmocka_unit_test(test_unstuck_fields),
		cmocka_unit_test(test_sample_fields),
		cmocka_unit_test(test_exit_fields),
		cmocka_unit_test(test_summary_dropped_is_sum_of_drops),
		cmocka_unit_test(test_summary_without_drops),
		cmocka_unit_test(test_several_reports_several_lines),
		cmocka_unit_test(test_write_error_is_eio),
		cmocka_unit_test(test_escapes_quote_backslash_and_controls),
		cmocka_unit_test(test_invalid_utf8_bytes_become_replacement),
		cmocka_unit_test(test_valid_multibyte_names_kept),
		cmocka_unit_test(test_pcomm_sanitized_in_sample),
		cmocka_unit_test(test_sanitize_16_bytes_without_nul),
		cmocka_unit_test(test_sanitize_len_is_respected),
		cmocka_unit_test(test_sanitize_output_always_valid),
		cmocka_unit_test(test_sanitize_valid_input_unchanged),
		cmocka_unit_test(test_stuck_names_its_site),
		cmocka_unit_test(test_site_record),
		cmocka_unit_test(test_site_frames_structured),
		cmocka_unit_test(test_leak_record),
		cmocka_unit_test(test_leak_growth_is_float_even_when_whole),
		cmocka_unit_test(test_spin_record),
		cmocka_unit_test(test_spin_without_stack_has_empty_list),
		cmocka_unit_test(test_summary_counts_unreadable_stacks_apart),
		cmocka_unit_test(test_goroutine_stuck_fields),
		cmocka_unit_test(test_goroutine_unstuck_fields),
		cmocka_unit_test(test_goroutine_site_and_leak_records),
		cmocka_unit_test(test_thread_site_has_no_goroutine_fields),
		cmocka_unit_test(test_spin_joined_to_goroutine),
		cmocka_unit_test(test_sample_of_go_process_has_goroutine_counts),
		cmocka_unit_test(test_summary_goroutine_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
