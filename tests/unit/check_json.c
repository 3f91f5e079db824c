/* SPDX-License-Identifier: GPL-2.0-or-later */
/* json_parse: a strict parser for untrusted state/config (SECURITY-NOTES 3). */
#include <time.h>

#include "testutil.h"

struct json_case {
        const char *in;
        size_t len;          /* 0: strlen(in) */
        const char *msg;     /* substring of the error; NULL: must parse */
};

static size_t case_len(const struct json_case *c)
{
        return c->len ? c->len : strlen(c->in);
}

static const struct json_case good[] = {
        { "{}", 0, NULL },
        { "[]", 0, NULL },
        { " \n\t{\"a\":[1,-2,{\"b\":null}],\"c\":true,\"d\":false,\"e\":\"\"}\n ", 0, NULL },
        { "{\"utf8\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", 0, NULL },
        { "{\"esc\":\"\\u00e9\\n\\t\\\"\\\\\\/\\ud83d\\ude00\"}", 0, NULL },
        { "{\"a\":{\"a\":{\"a\":1}}}", 0, NULL },          /* same key at different levels */
        { "{\"a\":1,\"A\":2,\"a \":3}", 0, NULL },
        { "\"just a string\"", 0, NULL },
};

static const struct json_case bad[] = {
        { "", 0, "empty input" },
        { "   \n\t ", 0, "premature EOF" },
        { "{\"a\":1", 0, "premature EOF" },
        { "{\"a\":", 0, "premature EOF" },
        { "[1,2", 0, "premature EOF" },
        { "{\"a\":1} x", 0, "trailing garbage" },
        { "{\"a\":1}{}", 0, "trailing garbage" },
        { "/* c */ {\"a\":1}", 0, "comment" },
        { "{\"a\":1 // c\n}", 0, "comment" },
        { "{\"a\":1} // c", 0, "trailing garbage" },
        { "{\"a\":1,\"a\":2}", 0, "duplicate key `a`" },
        { "{\"x\":[{\"pid\":1,\"id\":\"a\",\"pid\":2}]}", 0, "duplicate key `pid`" },
        { "{\"id\":\"a\",\"x\":{\"b\":1,\"c\":{},\"b\":2}}", 0, "duplicate key `b`" },
        { "{\"a\":1}\0", 8, "NUL byte at offset 7" },
        { "{\"a\":\"x\0y\"}", 11, "NUL byte at offset 7" },
        { "{\"a\":\"x\\u0000y\"}", 0, "NUL character" },
        { "{\"a\\u0000b\":1}", 0, "NUL character" },
        { "{\"a\":\"\xff\"}", 0, "invalid bytes in UTF8" },
        { "{\"a\xfe\":1}", 0, "invalid bytes in UTF8" },
        { "{\"a\":\"\xc3\"}", 0, "UTF8" },                  /* truncated sequence */
        { "{\"a\":\"\x80\"}", 0, "UTF8" },                  /* stray continuation */
        /* Overlong "/" (classic traversal bypass), UTF-8-encoded surrogate,
         * beyond U+10FFFF: not valid UTF-8 (RFC 3629), Go would read U+FFFD. */
        { "{\"a\":\"\xc0\xaf\"}", 0, "UTF" },
        { "{\"a\":\"\xe0\x80\xaf\"}", 0, "UTF" },
        { "{\"a\":\"\xed\xa0\x80\"}", 0, "UTF" },
        { "{\"a\":\"\xf4\x90\x80\x80\"}", 0, "UTF" },
        { "{\"a\":\"\x01\"}", 0, "invalid character inside string" },
        { "{\"a\":1,}", 0, "invalid JSON at byte" },
        { "{'a':1}", 0, "invalid JSON at byte" },
        { "{\"a\":NaN}", 0, "invalid JSON at byte" },
        { "{\"a\":01}", 0, "invalid JSON at byte" },
        { "{\"a\" 1}", 0, "invalid JSON at byte" },
};

START_TEST(test_parse_good)
{
        const struct json_case *c = &good[_i];
        hook_error_t err = {};
        yajl_val v = NULL;
        int r = json_parse(c->in, case_len(c), &v, &err);

        ck_assert_msg(r == 0, "`%s`: %s", c->in, err.msg);
        ck_assert_ptr_nonnull(v);
        json_free(v);
}
END_TEST

START_TEST(test_parse_bad)
{
        const struct json_case *c = &bad[_i];
        hook_error_t err = {};
        yajl_val v = NULL;
        int r = json_parse(c->in, case_len(c), &v, &err);

        ck_assert_err(r, &err, c->msg);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_parse_values)
{
        static const char doc[] = "{\"s\":\"\\u00e9\\ud83d\\ude00\",\"a\":[true,false,null],\"o\":{\"k\":\"v\"}}";
        _cleanup_json_ yajl_val v = NULL;
        hook_error_t err = {};
        yajl_val a, o;

        ck_assert_ok(json_parse(doc, strlen(doc), &v, &err), &err);
        ck_assert_int_eq(v->type, yajl_t_object);
        ck_assert_uint_eq(v->u.object.len, 3);
        ck_assert_str_eq(v->u.object.keys[0], "s");
        ck_assert_str_eq(json_obj_get(v, "s")->u.string, "\xc3\xa9\xf0\x9f\x98\x80");
        a = json_obj_get(v, "a");
        ck_assert_uint_eq(a->u.array.len, 3);
        ck_assert_int_eq(a->u.array.values[0]->type, yajl_t_true);
        ck_assert_int_eq(a->u.array.values[1]->type, yajl_t_false);
        ck_assert_int_eq(a->u.array.values[2]->type, yajl_t_null);
        o = json_obj_get(v, "o");
        ck_assert_str_eq(json_obj_get(o, "k")->u.string, "v");
        ck_assert_ptr_null(json_obj_get(v, "missing"));
        ck_assert_ptr_null(json_obj_get(a, "s"));     /* not an object */
}
END_TEST

/* Strict RFC 3629 check of what the parser hands back. */
static bool utf8_valid(const unsigned char *s)
{
        while (*s) {
                unsigned c = *s, n, cp, i;
                if (c < 0x80) {
                        s++;
                        continue;
                }
                n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
                if (n == 0 || c > 0xf4)
                        return false;
                cp = c & (0x3f >> n);
                for (i = 1; i <= n; i++) {
                        if ((s[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i] & 0x3f);
                }
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return false;
                s += n + 1;
        }
        return true;
}

/* CVE-2017-16516 style: lone or broken surrogate escapes must not abort
 * (a crash fails the forked test), and what is accepted is valid UTF-8. */
static const char *const surrogates[] = {
        "\"\\ud800\"", "[\"\\ud800\"]", "{\"a\":\"\\ud800x\"}", "{\"a\":\"\\udbff\\\\\"}",
        "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800\\ud800\"", "\"\\ud800\\u\"",
        "\"x\\ud800", "{\"\\udfff\":1}",
};

START_TEST(test_surrogates)
{
        const char *in = surrogates[_i];
        _cleanup_json_ yajl_val v = NULL;
        hook_error_t err = {};
        int r = json_parse(in, strlen(in), &v, &err);
        yajl_val s = v;

        if (r < 0) {
                ck_assert_ptr_null(v);
                ck_assert_msg(strstr(err.msg, "invalid JSON"), "%s: %s", in, err.msg);
                return;
        }
        while (s->type == yajl_t_array || s->type == yajl_t_object) {
                if (s->type == yajl_t_object)
                        ck_assert_msg(utf8_valid((const unsigned char *)s->u.object.keys[0]),
                                      "`%s` gave a key that is not valid UTF-8", in);
                s = s->type == yajl_t_array ? s->u.array.values[0] : s->u.object.values[0];
        }
        if (s->type == yajl_t_string)
                ck_assert_msg(utf8_valid((const unsigned char *)s->u.string),
                              "`%s` gave a string that is not valid UTF-8", in);
}
END_TEST

static char *nested(size_t depth, const char *open, const char *mid, const char *close)
{
        size_t lo = strlen(open), lc = strlen(close), i;
        char *s = xmalloc(depth * (lo + lc) + strlen(mid) + 1), *p = s;

        for (i = 0; i < depth; i++, p += lo)
                memcpy(p, open, lo);
        p = stpcpy(p, mid);
        for (i = 0; i < depth; i++, p += lc)
                memcpy(p, close, lc);
        *p = '\0';
        return s;
}

static const struct {
        size_t depth;
        const char *open, *mid, *close;
        bool ok;
} nesting[] = {
        { 64, "[", "", "]", true },
        { 64, "{\"a\":", "1", "}", true },
        { 63, "{\"a\":", "{}", "}", true },
        { 63, "{\"a\":", "[]", "}", true },
        { 65, "[", "", "]", false },
        { 64, "{\"a\":", "[]", "}", false },
        { 65, "{\"a\":", "1", "}", false },
        { 1000000, "[", "", "", false },     /* unterminated: refused at 65, no recursion */
        { 1000000, "[", "", "]", false },
};

START_TEST(test_nesting)
{
        _cleanup_free_ char *doc = nested(nesting[_i].depth, nesting[_i].open, nesting[_i].mid, nesting[_i].close);
        _cleanup_json_ yajl_val v = NULL;
        hook_error_t err = {};
        int r = json_parse(doc, strlen(doc), &v, &err);

        if (nesting[_i].ok) {
                ck_assert_ok(r, &err);
                ck_assert_ptr_nonnull(v);
        } else {
                ck_assert_err(r, &err, "nesting deeper than 64 levels");
                ck_assert_ptr_null(v);
        }
}
END_TEST

static bool under_valgrind(void)
{
        const char *p = getenv("LD_PRELOAD");
        return p && strstr(p, "vgpreload");
}

static double now(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 200k distinct keys: the duplicate check must be O(n log n).  The last
 * pair of keys differs only in its last byte. */
START_TEST(test_many_keys)
{
        const size_t n = 200000;
        char *doc = xmalloc(n * 24 + 16), *p = doc;
        _cleanup_json_ yajl_val v = NULL;
        hook_error_t err = {};
        double t0, dt;
        size_t i;
        int r;

        *p++ = '{';
        for (i = 0; i < n; i++)
                p += sprintf(p, "%s\"k%07zu\":%zu", i ? "," : "", (i * 7919) % n, i);
        *p++ = '}';
        t0 = now();
        r = json_parse(doc, (size_t)(p - doc), &v, &err);
        dt = now() - t0;
        ck_assert_ok(r, &err);
        ck_assert_uint_eq(v->u.object.len, n);
        ck_assert_str_eq(v->u.object.keys[1], "k0007919");
        ck_assert_msg(under_valgrind() || dt < 2.0, "parsing %zu keys took %.2f s", n, dt);

        /* The same with one duplicate in the middle: refused, and named. */
        json_free(TAKE_PTR(v));
        memcpy(strstr(doc, "\"k0007919\""), "\"k0000000\"", 10);
        r = json_parse(doc, (size_t)(p - doc), &v, &err);
        ck_assert_err(r, &err, "duplicate key `k0000000`");
        free(doc);
}
END_TEST

static const struct {
        const char *num;
        bool int_valid;
        long long i;
        double d;
} numbers[] = {
        { "0", true, 0, 0 },
        { "42", true, 42, 42 },
        { "-7", true, -7, -7 },
        { "9223372036854775807", true, INT64_MAX, 9223372036854775807.0 },
        { "-9223372036854775808", true, INT64_MIN, -9223372036854775808.0 },
        { "9223372036854775808", false, 0, 9223372036854775808.0 },      /* 2^63 */
        { "1.5", false, 0, 1.5 },
        { "1e3", false, 0, 1000 },
        { "-2.5E-1", false, 0, -0.25 },
};

START_TEST(test_numbers)
{
        _cleanup_free_ char *doc = tu_printf("{\"n\":%s}", numbers[_i].num);
        _cleanup_json_ yajl_val v = NULL;
        hook_error_t err = {};
        long long i = 12345;
        yajl_val n;
        int r;

        ck_assert_ok(json_parse(doc, strlen(doc), &v, &err), &err);
        n = json_obj_get(v, "n");
        ck_assert_int_eq(n->type, yajl_t_number);
        ck_assert_str_eq(n->u.number.r, numbers[_i].num);
        ck_assert_int_eq(!!(n->u.number.flags & YAJL_NUMBER_INT_VALID), numbers[_i].int_valid);
        ck_assert(n->u.number.flags & YAJL_NUMBER_DOUBLE_VALID);
        ck_assert_double_eq(n->u.number.d, numbers[_i].d);
        r = json_get_int(v, "n", "linux.thing", &i, &err);
        if (numbers[_i].int_valid) {
                ck_assert_int_eq(r, 1);
                ck_assert_int_eq(i, numbers[_i].i);
        } else {
                ck_assert_err(r, &err, "`linux.thing` must be an integer, not `");
                ck_assert_int_eq(i, 12345);
        }
}
END_TEST

/* json_get_*: absent 0 (untouched), right type 1, wrong type names the field. */
static const char typed_doc[] =
        "{\"s\":\"str\",\"n\":3,\"b\":false,\"o\":{},\"a\":[],\"z\":null}";

enum getter { G_STRING, G_BOOL, G_OBJECT, G_ARRAY, G_INT };

static int get(enum getter g, yajl_val obj, const char *key, hook_error_t *err)
{
        const char *s = NULL;
        long long i = 0;
        bool b = true;
        yajl_val v = NULL;

        switch (g) {
        case G_STRING: return json_get_string(obj, key, "process.cwd", &s, err);
        case G_BOOL: return json_get_bool(obj, key, "process.cwd", &b, err);
        case G_OBJECT: return json_get_object(obj, key, "process.cwd", &v, err);
        case G_ARRAY: return json_get_array(obj, key, "process.cwd", &v, err);
        default: return json_get_int(obj, key, "process.cwd", &i, err);
        }
}

static const struct {
        enum getter g;
        const char *key;
        int r;
        const char *msg;
} typed[] = {
        { G_STRING, "s", 1, NULL }, { G_STRING, "missing", 0, NULL },
        { G_STRING, "n", -EINVAL, "`process.cwd` must be a string, not a number" },
        { G_STRING, "z", -EINVAL, "`process.cwd` must be a string, not null" },
        { G_BOOL, "b", 1, NULL },
        { G_BOOL, "s", -EINVAL, "`process.cwd` must be a boolean, not a string" },
        { G_OBJECT, "o", 1, NULL },
        { G_OBJECT, "a", -EINVAL, "`process.cwd` must be an object, not an array" },
        { G_ARRAY, "a", 1, NULL },
        { G_ARRAY, "o", -EINVAL, "`process.cwd` must be an array, not an object" },
        { G_INT, "n", 1, NULL }, { G_INT, "missing", 0, NULL },
        { G_INT, "b", -EINVAL, "`process.cwd` must be a number, not a boolean" },
};

START_TEST(test_typed_getters)
{
        _cleanup_json_ yajl_val v = NULL;
        hook_error_t err = {};
        int r;

        ck_assert_ok(json_parse(typed_doc, strlen(typed_doc), &v, &err), &err);
        r = get(typed[_i].g, v, typed[_i].key, &err);
        ck_assert_int_eq(r, typed[_i].r);
        if (typed[_i].msg)
                ck_assert_err(r, &err, typed[_i].msg);
}
END_TEST

START_TEST(test_typed_values)
{
        _cleanup_json_ yajl_val v = NULL;
        hook_error_t err = {};
        const char *s = "untouched";
        bool b = true;
        long long i = 0;

        ck_assert_ok(json_parse(typed_doc, strlen(typed_doc), &v, &err), &err);
        ck_assert_int_eq(json_get_string(v, "s", "s", &s, &err), 1);
        ck_assert_str_eq(s, "str");
        ck_assert_int_eq(json_get_string(v, "nope", "nope", &s, &err), 0);
        ck_assert_str_eq(s, "str");
        ck_assert_int_eq(json_get_bool(v, "b", "b", &b, &err), 1);
        ck_assert(!b);
        ck_assert_int_eq(json_get_int(v, "n", "n", &i, &err), 1);
        ck_assert_int_eq(i, 3);
        /* Not an object: nothing is found. */
        ck_assert_int_eq(json_get_string(json_obj_get(v, "a"), "s", "s", &s, &err), 0);
}
END_TEST

/* ---- read_fd_capped ------------------------------------------------------ */

/* A pipe holding LEN bytes of 'x' and then EOF (LEN fits the pipe buffer). */
static int pipe_with(size_t len)
{
        int p[2];
        char *buf = xmalloc(len + 1);

        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        memset(buf, 'x', len);
        ck_assert_int_eq(write(p[1], buf, len), (ssize_t)len);
        (void)close(p[1]);
        free(buf);
        return p[0];
}

static const struct {
        size_t len, cap;
        bool ok;
} capped[] = {
        { 0, 0, true }, { 1, 0, false }, { 0, 100, true }, { 100, 100, true }, { 101, 100, false },
        { 4096, 4096, true }, { 4097, 4096, false }, { 60000, 1000, false },
        { 16385, 16384, false }, { 16384, 16384, true },
};

START_TEST(test_read_capped_pipe)
{
        _cleanup_close_ int fd = pipe_with(capped[_i].len);
        _cleanup_free_ char *buf = NULL;
        hook_error_t err = {};
        size_t len = 12345;
        int r = read_fd_capped(fd, capped[_i].cap, &buf, &len, &err);

        if (capped[_i].ok) {
                ck_assert_ok(r, &err);
                ck_assert_uint_eq(len, capped[_i].len);
                ck_assert_uint_eq(strlen(buf), len);    /* NUL-terminated */
        } else {
                ck_assert_err(r, &err, "larger than the limit of");
                ck_assert_int_eq(r, -EFBIG);
                ck_assert_ptr_null(buf);
                ck_assert_uint_eq(len, 12345);
        }
}
END_TEST

/* A real file of exactly STATE_MAX_BYTES and one byte more. */
START_TEST(test_read_capped_file)
{
        _cleanup_free_ char *dir = tu_mkdtemp(), *path = tu_join(dir, "state.json"), *buf = NULL;
        _cleanup_free_ char *content = xmalloc(STATE_MAX_BYTES + 2);
        _cleanup_close_ int fd = -EBADF;
        hook_error_t err = {};
        size_t len = 0;

        memset(content, 'y', STATE_MAX_BYTES + 1);
        content[STATE_MAX_BYTES] = '\0';
        tu_write(path, content);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_ok(read_fd_capped(fd, STATE_MAX_BYTES, &buf, &len, &err), &err);
        ck_assert_uint_eq(len, STATE_MAX_BYTES);
        ck_assert_mem_eq(buf, content, STATE_MAX_BYTES);
        (void)close(TAKE_FD(fd));
        free(TAKE_PTR(buf));

        content[STATE_MAX_BYTES] = 'y';
        content[STATE_MAX_BYTES + 1] = '\0';
        tu_write(path, content);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_err(read_fd_capped(fd, STATE_MAX_BYTES, &buf, &len, &err), &err, "1048576 bytes");
}
END_TEST

/* An endless stdin stops at the cap. */
START_TEST(test_read_capped_endless)
{
        _cleanup_close_ int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        hook_error_t err = {};
        size_t len = 0;

        ck_assert_int_ge(fd, 0);
        ck_assert_err(read_fd_capped(fd, STATE_MAX_BYTES, &buf, &len, &err), &err, "larger than the limit");
}
END_TEST

START_TEST(test_read_bad_fd)
{
        _cleanup_free_ char *buf = NULL;
        hook_error_t err = {};
        size_t len = 0;

        ck_assert_int_eq(read_fd_capped(-1, 100, &buf, &len, &err), -EBADF);
        ck_assert_err(-1, &err, "read: ");
}
END_TEST

/* The state's writer keeps the pipe open: reading ends once one whole
 * document arrived (brackets inside strings and escaped quotes do not
 * count), not at EOF; a document still open waits for more. */
static const struct {
        const char *text;
        bool complete;
} documents[] = {
        { "{\"a\": 1}", true },
        { "  [1, [2], {\"x\": []}]", true },
        { "{\"s\": \"}]}\\\"}\"}", true },
        { "{\"s\": \"\\\\\"}", true },
        { "{\"a\": {\"b\": 1}", false },
        { "{\"s\": \"}\\\"}", false },
};

START_TEST(test_read_document_open_pipe)
{
        int p[2];
        _cleanup_free_ char *buf = NULL;
        hook_error_t err = {};
        struct timespec t0, t1;
        size_t len = 0;
        int r;

        ck_assert_int_eq(pipe2(p, O_CLOEXEC | (documents[_i].complete ? 0 : O_NONBLOCK)), 0);
        ck_assert_int_eq(write(p[1], documents[_i].text, strlen(documents[_i].text)),
                         (ssize_t)strlen(documents[_i].text));
        (void)clock_gettime(CLOCK_MONOTONIC, &t0);
        r = read_json_document(p[0], 4096, 50, &buf, &len, &err);
        (void)clock_gettime(CLOCK_MONOTONIC, &t1);
        if (documents[_i].complete) {
                ck_assert_ok(r, &err);
                ck_assert_str_eq(buf, documents[_i].text);
                ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
        } else {
                /* no end of document: still reading (EAGAIN on the
                 * non-blocking pipe stands for "would block") */
                ck_assert_int_eq(r, -EAGAIN);
        }
        (void)close(p[0]);
        (void)close(p[1]);
}
END_TEST

/* What follows the document within the settle time is kept, so that the
 * parser refuses trailing garbage as before. */
START_TEST(test_read_document_trailing)
{
        int p[2];
        _cleanup_free_ char *buf = NULL;
        hook_error_t err = {};
        size_t len = 0;

        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        ck_assert_int_eq(write(p[1], "{} x", 4), 4);
        ck_assert_int_eq(close(p[1]), 0);
        ck_assert_ok(read_json_document(p[0], 4096, 1000, &buf, &len, &err), &err);
        ck_assert_str_eq(buf, "{} x");
        (void)close(p[0]);
}
END_TEST

static Suite *json_suite(void)
{
        Suite *s = suite_create("json");

        TU_TCASE(s, "parse", 60, TU_LOOP(test_parse_good, good), TU_LOOP(test_parse_bad, bad),
                 TU_TEST(test_parse_values), TU_LOOP(test_surrogates, surrogates),
                 TU_LOOP(test_nesting, nesting), TU_TEST(test_many_keys),
                 TU_LOOP(test_numbers, numbers));
        TU_TCASE(s, "getters", 0, TU_LOOP(test_typed_getters, typed), TU_TEST(test_typed_values));
        TU_TCASE(s, "read_fd_capped", 30, TU_LOOP(test_read_capped_pipe, capped),
                 TU_TEST(test_read_capped_file), TU_TEST(test_read_capped_endless),
                 TU_TEST(test_read_bad_fd), TU_LOOP(test_read_document_open_pipe, documents),
                 TU_TEST(test_read_document_trailing));
        return s;
}

int main(void)
{
        return tu_run(json_suite());
}
