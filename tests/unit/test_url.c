/* URL parsing and resolution (src/url.c). */
#include <stdint.h>
#include <string.h>

#include "fota/error.h"
#include "fota/url.h"
#include "harness.h"

struct parse_case {
    const char *url;
    int tls;
    const char *host;
    unsigned port;
    const char *path;
};

static const struct parse_case good_urls[] = {
    {"http://example.com", 0, "example.com", 80, "/"},
    {"http://example.com/", 0, "example.com", 80, "/"},
    {"https://example.com", 1, "example.com", 443, "/"},
    {"https://fw.example.com/dir/fw.bin?v=1&x=%2F#frag", 1, "fw.example.com", 443,
     "/dir/fw.bin?v=1&x=%2F"},
    {"HTTP://Example.COM:8080/a", 0, "Example.COM", 8080, "/a"},
    {"HtTpS://h:1/", 1, "h", 1, "/"},
    {"http://h:65535", 0, "h", 65535, "/"},
    {"http://h:00080/x", 0, "h", 80, "/x"},
    {"https://h:80/", 1, "h", 80, "/"},
    {"http://h#only-fragment", 0, "h", 80, "/"},
    {"http://h/#", 0, "h", 80, "/"},
    {"http://h/a/../b/./c", 0, "h", 80, "/a/../b/./c"}, /* parse does not normalise */
    {"http://192.168.1.10:8000/fw", 0, "192.168.1.10", 8000, "/fw"},
    {"http://0.0.0.0/", 0, "0.0.0.0", 80, "/"},
    {"http://255.255.255.255/", 0, "255.255.255.255", 80, "/"},
    {"http://1.2.3.4a/", 0, "1.2.3.4a", 80, "/"}, /* not all-numeric: a name */
    {"http://my_host-1.local./x", 0, "my_host-1.local.", 80, "/x"},
    {"http://[::1]:8080/x", 0, "::1", 8080, "/x"},
    {"http://[::]/", 0, "::", 80, "/"},
    {"https://[2001:db8::1]/a", 1, "2001:db8::1", 443, "/a"},
    {"http://[1:2:3:4:5:6:7:8]/", 0, "1:2:3:4:5:6:7:8", 80, "/"},
    {"http://[1::]/", 0, "1::", 80, "/"},
    {"http://[::ffff:192.0.2.1]/", 0, "::ffff:192.0.2.1", 80, "/"},
    {"http://[1:2:3:4:5:6:1.2.3.4]/", 0, "1:2:3:4:5:6:1.2.3.4", 80, "/"},
    {"http://[ABCD:ef01::1]/", 0, "ABCD:ef01::1", 80, "/"},
    {"http://h/~user/a-b_c.d!$&'()*+,;=:@", 0, "h", 80, "/~user/a-b_c.d!$&'()*+,;=:@"},
};

static const char *const bad_urls[] = {
    "",
    "http",
    "http:",
    "http:/",
    "http://",
    "http:///x",
    "http://:80/",
    "http:h",
    "http:/h/x",
    "//h/x",
    "/x",
    "ftp://h/",
    "httpx://h/",
    "htt://h/",
    "https//h/",
    "1http://h/",
    "http://user@h/",
    "http://user:pw@h/",
    "http://@h/",
    "http://h:/",
    "http://h:0/",
    "http://h:65536/",
    "http://h:123456/",
    "http://h:8a/",
    "http://h:-1/",
    "http://h:8080:1/",
    "http://h?q=1",
    "http://ho st/",
    "http://h /",
    "http://h/a b",
    "http://h/a\tb",
    "http://h/a\rb",
    "http://h/a\nb",
    "http://h/\x7f",
    "http://h/\xc3\xa9",
    "http://h/#frag ment",
    "http://h/%zz",
    "http://h/%4",
    "http://h/%",
    "http://h%41/",
    "http://a..b/",
    "http://.a/",
    "http://a.b../",
    "http://h\\x/",
    "http://256.1.1.1/",
    "http://1.2.3/",
    "http://1.2.3.4.5/",
    "http://01.2.3.4/",
    "http://[::1/",
    "http://[]/",
    "http://[:1]/",
    "http://[1:]/",
    "http://[1::2::3]/",
    "http://[12345::]/",
    "http://[1:2:3:4:5:6:7:8:9]/",
    "http://[1:2:3:4:5:6:7]/",
    "http://[1:2:3:4:5:6:7::8]/",
    "http://[fe80::1%25eth0]/",
    "http://[::g]/",
    "http://[1:2:3:4:5:6:7:1.2.3.4]/",
    "http://[::1.2.3]/",
    "http://[::1]x/",
    "http://[::1]:0/",
    "http://::1/",
};

static void test_parse_good(void)
{
    size_t i;
    for (i = 0; i < TEST_COUNT(good_urls); i++) {
        const struct parse_case *c = &good_urls[i];
        struct fota_url u;
        int r;
        memset(&u, 0xa5, sizeof u);
        r = fota_url_parse(c->url, &u);
        CHECK_EQ_INT(r, 0);
        if (r != 0) {
            printf("  url: %s\n", c->url);
            continue;
        }
        CHECK_EQ_INT(u.tls, c->tls);
        CHECK_EQ_INT(u.port, c->port);
        CHECK_EQ_INT(u.host_len, strlen(c->host));
        CHECK(u.host_len == strlen(c->host) && memcmp(u.host, c->host, u.host_len) == 0);
        CHECK_EQ_INT(u.path_len, strlen(c->path));
        CHECK(u.path_len == strlen(c->path) && memcmp(u.path, c->path, u.path_len) == 0);
        CHECK(u.path[0] == '/');
    }
}

static void test_parse_bad(void)
{
    size_t i;
    for (i = 0; i < TEST_COUNT(bad_urls); i++) {
        struct fota_url u;
        int r = fota_url_parse(bad_urls[i], &u);
        CHECK_EQ_INT(r, FOTA_ERR_URL);
        if (r != FOTA_ERR_URL)
            printf("  accepted: %s\n", bad_urls[i]);
    }
    CHECK_EQ_INT(fota_url_parse(NULL, NULL), FOTA_ERR_URL);
}

/* Host names up to 253 characters with labels up to 63; longer is refused. */
static void test_parse_host_limits(void)
{
    static char url[400];
    struct fota_url u;
    size_t n;
    /* "http://" + 63 a + "." + 63 b + "." + 63 c + "." + 61 d + "/" = 253 host chars */
    memcpy(url, "http://", 7);
    n = 7;
    memset(url + n, 'a', 63), n += 63, url[n++] = '.';
    memset(url + n, 'b', 63), n += 63, url[n++] = '.';
    memset(url + n, 'c', 63), n += 63, url[n++] = '.';
    memset(url + n, 'd', 61), n += 61;
    url[n] = '/';
    url[n + 1] = '\0';
    CHECK_EQ_INT(fota_url_parse(url, &u), 0);
    CHECK_EQ_INT(u.host_len, 253);

    /* one more character: 254 */
    url[n] = 'd';
    url[n + 1] = '/';
    url[n + 2] = '\0';
    CHECK_EQ_INT(fota_url_parse(url, &u), FOTA_ERR_URL);

    /* a 64-character label, then a 63-character one */
    memcpy(url, "http://", 7);
    memset(url + 7, 'x', 64);
    memcpy(url + 7 + 64, ".com/", 6);
    CHECK_EQ_INT(fota_url_parse(url, &u), FOTA_ERR_URL);
    memcpy(url + 7 + 63, ".com/", 6);
    CHECK_EQ_INT(fota_url_parse(url, &u), 0);
    CHECK_EQ_INT(u.host_len, 67);
}

/* URLs up to 4096 characters are accepted, longer ones refused. */
static void test_parse_length_limit(void)
{
    static char url[4200];
    struct fota_url u;
    memcpy(url, "http://h/", 9);
    memset(url + 9, 'p', 4096 - 9);
    url[4096] = '\0';
    CHECK_EQ_INT(fota_url_parse(url, &u), 0);
    CHECK_EQ_INT(u.path_len, 4096 - 8);
    url[4096] = 'p';
    url[4097] = '\0';
    CHECK_EQ_INT(fota_url_parse(url, &u), FOTA_ERR_URL);
}

static void test_host_copy(void)
{
    struct fota_url u;
    char host[16];
    CHECK_EQ_INT(fota_url_parse("http://[2001:db8::1]:81/x", &u), 0);
    memset(host, 'z', sizeof host);
    CHECK_EQ_INT(fota_url_host(&u, host, 12), 0); /* 11 chars + NUL */
    CHECK_EQ_STR(host, "2001:db8::1");
    CHECK_EQ_INT(host[12], 'z');
    memset(host, 'z', sizeof host);
    CHECK_EQ_INT(fota_url_host(&u, host, 11), FOTA_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(host[0], 'z');
    CHECK_EQ_INT(fota_url_host(&u, host, 0), FOTA_ERR_BUFFER_TOO_SMALL);
}

struct resolve_case {
    const char *base;
    const char *ref;
    const char *want; /* NULL: FOTA_ERR_URL */
};

#define RFC_BASE "http://a/b/c/d;p?q"

static const struct resolve_case resolve_cases[] = {
    /* RFC 3986 5.4.1 normal examples ("g:h" is not http: refused) */
    {RFC_BASE, "g:h", NULL},
    {RFC_BASE, "g", "http://a/b/c/g"},
    {RFC_BASE, "./g", "http://a/b/c/g"},
    {RFC_BASE, "g/", "http://a/b/c/g/"},
    {RFC_BASE, "/g", "http://a/g"},
    {RFC_BASE, "//g", "http://g/"},
    {RFC_BASE, "?y", "http://a/b/c/d;p?y"},
    {RFC_BASE, "g?y", "http://a/b/c/g?y"},
    {RFC_BASE, "#s", "http://a/b/c/d;p?q"},
    {RFC_BASE, "g#s", "http://a/b/c/g"},
    {RFC_BASE, "g?y#s", "http://a/b/c/g?y"},
    {RFC_BASE, ";x", "http://a/b/c/;x"},
    {RFC_BASE, "g;x", "http://a/b/c/g;x"},
    {RFC_BASE, "g;x?y#s", "http://a/b/c/g;x?y"},
    {RFC_BASE, "", "http://a/b/c/d;p?q"},
    {RFC_BASE, ".", "http://a/b/c/"},
    {RFC_BASE, "./", "http://a/b/c/"},
    {RFC_BASE, "..", "http://a/b/"},
    {RFC_BASE, "../", "http://a/b/"},
    {RFC_BASE, "../g", "http://a/b/g"},
    {RFC_BASE, "../..", "http://a/"},
    {RFC_BASE, "../../", "http://a/"},
    {RFC_BASE, "../../g", "http://a/g"},
    /* RFC 3986 5.4.2 abnormal examples */
    {RFC_BASE, "../../../g", "http://a/g"},
    {RFC_BASE, "../../../../g", "http://a/g"},
    {RFC_BASE, "/./g", "http://a/g"},
    {RFC_BASE, "/../g", "http://a/g"},
    {RFC_BASE, "g.", "http://a/b/c/g."},
    {RFC_BASE, ".g", "http://a/b/c/.g"},
    {RFC_BASE, "g..", "http://a/b/c/g.."},
    {RFC_BASE, "..g", "http://a/b/c/..g"},
    {RFC_BASE, "./../g", "http://a/b/g"},
    {RFC_BASE, "./g/.", "http://a/b/c/g/"},
    {RFC_BASE, "g/./h", "http://a/b/c/g/h"},
    {RFC_BASE, "g/../h", "http://a/b/c/h"},
    {RFC_BASE, "g;x=1/./y", "http://a/b/c/g;x=1/y"},
    {RFC_BASE, "g;x=1/../y", "http://a/b/c/y"},
    {RFC_BASE, "g?y/./x", "http://a/b/c/g?y/./x"},
    {RFC_BASE, "g?y/../x", "http://a/b/c/g?y/../x"},
    {RFC_BASE, "g#s/./x", "http://a/b/c/g"},
    {RFC_BASE, "g#s/../x", "http://a/b/c/g"},
    {RFC_BASE, "http:g", NULL}, /* strict: a scheme needs "//host" */
    /* Empty segments are segments */
    {RFC_BASE, "g//h/../x", "http://a/b/c/g//x"},
    {"http://a//b/c", "x", "http://a//b/x"},
    {"http://a//b/c", "../../x", "http://a/x"},
    {"http://a/b/c", "../../../..", "http://a/"},
    /* Absolute references: own origin, normalised, dot segments removed */
    {RFC_BASE, "https://other.example/x/../y?z#f", "https://other.example/y?z"},
    {RFC_BASE, "HTTP://Other:80/p", "http://Other/p"},
    {RFC_BASE, "http://other:8080", "http://other:8080/"},
    {RFC_BASE, "https://other:443/./a/.", "https://other/a/"},
    {RFC_BASE, "http://[::1]:8000/x", "http://[::1]:8000/x"},
    {RFC_BASE, "ftp://other/x", NULL},
    {RFC_BASE, "http://user@other/x", NULL},
    {RFC_BASE, "http://other:99999/", NULL},
    /* Scheme-relative keeps the base's scheme */
    {"https://fw.example.com:8443/dir/m.txt", "//cdn.example.net/x/./y", "https://cdn.example.net/x/y"},
    {"https://fw.example.com/", "//cdn.example.net:8443", "https://cdn.example.net:8443/"},
    {"http://h/", "//", NULL},
    {"http://h/", "//u@x/", NULL},
    /* Typical firmware cases */
    {"https://fw.example.com:8443/dir/manifest.txt", "fw.bin", "https://fw.example.com:8443/dir/fw.bin"},
    {"https://fw.example.com/dir/manifest.txt?dev=1", "fw-1.2.bin",
     "https://fw.example.com/dir/fw-1.2.bin"},
    {"http://[::1]:8000/a/b", "c", "http://[::1]:8000/a/c"},
    {"http://h", "x", "http://h/x"},
    {"http://h", "?x", "http://h/?x"},
    {"http://h/a/b?x#y", "", "http://h/a/b?x"},
    {"http://h/a/", "%41%2f", "http://h/a/%41%2f"},
    /* Bad references and bases */
    {RFC_BASE, "a b", NULL},
    {RFC_BASE, "a\r\nHost: evil", NULL},
    {RFC_BASE, "a#b c", NULL},
    {RFC_BASE, "%zz", NULL},
    {RFC_BASE, "\xff", NULL},
    {"ftp://a/b", "c", NULL},
    {"http://a b/", "c", NULL},
    {"/relative/base", "c", NULL},
};

static void test_resolve_table(void)
{
    size_t i;
    for (i = 0; i < TEST_COUNT(resolve_cases); i++) {
        const struct resolve_case *c = &resolve_cases[i];
        char out[512];
        int r;
        memset(out, 'z', sizeof out);
        r = fota_url_resolve(c->base, c->ref, out, sizeof out);
        if (c->want == NULL) {
            CHECK_EQ_INT(r, FOTA_ERR_URL);
        } else {
            CHECK_EQ_INT(r, (int)strlen(c->want));
            if (r >= 0)
                CHECK_EQ_STR(out, c->want);
        }
        if ((c->want == NULL) != (r < 0) || (r >= 0 && strcmp(out, c->want) != 0))
            printf("  base \"%s\" ref \"%s\"\n", c->base, c->ref);
    }
}

/* Every good case fits exactly in strlen+1 bytes and fails with one less,
 * without writing past the given size. */
static void test_resolve_buffer_exact(void)
{
    size_t i;
    for (i = 0; i < TEST_COUNT(resolve_cases); i++) {
        const struct resolve_case *c = &resolve_cases[i];
        char out[512];
        size_t want_len, size;
        if (c->want == NULL)
            continue;
        want_len = strlen(c->want);
        for (size = 1; size <= want_len + 1; size++) {
            int r;
            memset(out, 'z', sizeof out);
            r = fota_url_resolve(c->base, c->ref, out, size);
            if (size == want_len + 1) {
                CHECK_EQ_INT(r, (int)want_len);
                CHECK_EQ_STR(out, c->want);
            } else {
                CHECK_EQ_INT(r, FOTA_ERR_BUFFER_TOO_SMALL);
            }
            CHECK_EQ_INT(out[size], 'z');
        }
    }
}

/* Dot removal needs only room for the result, not for the merged path. */
static void test_resolve_fits_after_dot_removal(void)
{
    char out[11];
    int r = fota_url_resolve("http://a/a-very-long-directory-name/x", "../y", out, sizeof out);
    CHECK_EQ_INT(r, 10);
    CHECK_EQ_STR(out, "http://a/y");
    r = fota_url_resolve("http://a/", "a-very-long-segment/../../y", out, sizeof out);
    CHECK_EQ_INT(r, 10);
    CHECK_EQ_STR(out, "http://a/y");
    r = fota_url_resolve("http://a/", "https://b/long-segment/..", out, sizeof out);
    CHECK_EQ_INT(r, 10);
    CHECK_EQ_STR(out, "https://b/");
}

static void test_resolve_args(void)
{
    char buf[64] = "http://h/a";
    char out[64];
    CHECK_EQ_INT(fota_url_resolve(NULL, "x", out, sizeof out), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_url_resolve("http://h/", NULL, out, sizeof out), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_url_resolve("http://h/", "x", NULL, 10), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_url_resolve("http://h/", "x", out, 0), FOTA_ERR_INVALID_ARG);
    /* out may not overlap its inputs: it is written while they are read */
    CHECK_EQ_INT(fota_url_resolve(buf, "b", buf, sizeof buf), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_url_resolve("http://h/", buf + 9, buf, sizeof buf), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_STR(buf, "http://h/a");
}

/* The resolved URL parses back to the expected parts. */
static void test_resolve_then_parse(void)
{
    char out[128];
    struct fota_url u;
    CHECK_EQ_INT(fota_url_resolve("https://[2001:db8::2]:4443/m/manifest", "../fw/app.bin?x=1#f",
                                  out, sizeof out),
                 (int)strlen("https://[2001:db8::2]:4443/fw/app.bin?x=1"));
    CHECK_EQ_STR(out, "https://[2001:db8::2]:4443/fw/app.bin?x=1");
    CHECK_EQ_INT(fota_url_parse(out, &u), 0);
    CHECK_EQ_INT(u.tls, 1);
    CHECK_EQ_INT(u.port, 4443);
    CHECK(u.host_len == 11 && memcmp(u.host, "2001:db8::2", 11) == 0);
    CHECK(u.path_len == 15 && memcmp(u.path, "/fw/app.bin?x=1", 15) == 0);
}

static const struct test_case tests[] = {
    TEST(test_parse_good),
    TEST(test_parse_bad),
    TEST(test_parse_host_limits),
    TEST(test_parse_length_limit),
    TEST(test_host_copy),
    TEST(test_resolve_table),
    TEST(test_resolve_buffer_exact),
    TEST(test_resolve_fits_after_dot_removal),
    TEST(test_resolve_args),
    TEST(test_resolve_then_parse),
};

int main(void)
{
    return test_main("url", tests, TEST_COUNT(tests));
}
