/*
 * URL parsing and resolution: http/https only, RFC 3986 subset.
 *
 * Every scan is bounded by URL_LEN_MAX, so a string without its NUL cannot
 * run a loop off the end of the caller's memory by more than that.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fota/error.h"
#include "fota/url.h"
#include "internal/text.h"
#include "internal/writer.h"

/* Longest URL accepted (parse and resolve, inputs and result). */
#define URL_LEN_MAX 4096
#define DNS_LABEL_MAX 63

static size_t bounded_len(const char *s)
{
    size_t n = 0;
    while (n <= URL_LEN_MAX && s[n] != '\0')
        n++;
    return n;
}

/* Length of a scheme ("ALPHA *( ALPHA / DIGIT / + / - / . )" then ':') at
 * the start of s[0..n), or 0 if s does not start with one. */
static size_t scheme_len(const char *s, size_t n)
{
    size_t i;
    if (n == 0 || !is_alpha(s[0]))
        return 0;
    for (i = 1; i < n; i++) {
        char c = s[i];
        if (c == ':')
            return i;
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
            return 0;
    }
    return 0;
}

/* Dotted-quad IPv4 with decimal octets 0..255 and no leading zeros. */
static int valid_ipv4(const char *s, size_t n)
{
    size_t i = 0;
    int octets = 0;
    while (octets < 4) {
        size_t start = i;
        unsigned value = 0;
        while (i < n && is_digit(s[i]) && i - start < 3) {
            value = value * 10u + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || value > 255 || (i - start > 1 && s[start] == '0'))
            return 0;
        octets++;
        if (octets < 4) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == n;
}

/* RFC 4291 text form: up to 8 groups of 1..4 hex digits, at most one "::",
 * optionally ending in a dotted quad that counts as two groups. No zone id. */
static int valid_ipv6(const char *s, size_t n)
{
    size_t i = 0;
    int groups = 0, compressed = 0;

    if (n < 2)
        return 0;
    if (s[0] == ':') {
        if (s[1] != ':')
            return 0;
        compressed = 1;
        i = 2;
        if (i == n)
            return 1; /* "::" */
    }
    while (i < n) {
        size_t start = i;
        while (i < n && is_hex(s[i]) && i - start < 4)
            i++;
        if (i < n && s[i] == '.') {
            /* Embedded IPv4: the rest of the string, worth two groups. */
            if (groups > 6 || !valid_ipv4(s + start, n - start))
                return 0;
            groups += 2;
            i = n;
            break;
        }
        if (i == start)
            return 0;
        groups++;
        if (i == n)
            break;
        if (s[i] != ':')
            return 0;
        i++;
        if (i < n && s[i] == ':') {
            if (compressed)
                return 0;
            compressed = 1;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return 0; /* trailing single ':' */
        }
        if (groups > 8)
            return 0;
    }
    return compressed ? groups <= 7 : groups == 8;
}

/* DNS name (letters, digits, '-', '_', '.'), labels 1..63, one trailing dot
 * allowed; an all-numeric name must be a valid IPv4 address. */
static int valid_hostname(const char *s, size_t n)
{
    size_t i, label = 0;
    int all_numeric = 1;

    if (n == 0 || n > FOTA_URL_HOST_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
            continue;
        }
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
            return 0;
        if (!is_digit(c))
            all_numeric = 0;
        if (++label > DNS_LABEL_MAX)
            return 0;
    }
    if (all_numeric)
        return valid_ipv4(s, n);
    return 1;
}

/* Path, query and fragment characters: printable ASCII except space;
 * '%' must start a "%XX" escape. */
static int valid_path_chars(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return 0;
        if (c == '%') {
            if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return 0;
            i += 2;
        }
    }
    return 1;
}

/* Parses "//authority[/path][?query][#fragment]" at s[start..n) with the
 * scheme already known (tls). */
static int parse_hier(const char *s, size_t n, size_t start, int tls, struct fota_url *out)
{
    size_t i, auth_start, auth_end, host_start, host_end, path_end;
    uint16_t port = tls ? 443 : 80;

    if (n < start + 2 || s[start] != '/' || s[start + 1] != '/')
        return FOTA_ERR_URL;
    auth_start = start + 2;
    auth_end = auth_start;
    while (auth_end < n && s[auth_end] != '/' && s[auth_end] != '?' && s[auth_end] != '#')
        auth_end++;

    /* Host */
    i = auth_start;
    if (i < auth_end && s[i] == '[') {
        host_start = i + 1;
        while (i < auth_end && s[i] != ']')
            i++;
        if (i == auth_end)
            return FOTA_ERR_URL;
        host_end = i;
        if (!valid_ipv6(s + host_start, host_end - host_start))
            return FOTA_ERR_URL;
        i++; /* past ']' */
    } else {
        host_start = i;
        while (i < auth_end && s[i] != ':')
            i++;
        host_end = i;
        /* Also rejects userinfo ('@'), '%', spaces and control characters. */
        if (!valid_hostname(s + host_start, host_end - host_start))
            return FOTA_ERR_URL;
    }

    /* Port */
    if (i < auth_end) {
        uint32_t value = 0;
        size_t digits = 0;
        if (s[i] != ':')
            return FOTA_ERR_URL;
        i++;
        while (i < auth_end) {
            if (!is_digit(s[i]) || ++digits > 5)
                return FOTA_ERR_URL;
            value = value * 10u + (uint32_t)(s[i] - '0');
            i++;
        }
        if (digits == 0 || value == 0 || value > 65535)
            return FOTA_ERR_URL;
        port = (uint16_t)value;
    }

    /* Path and query up to '#'; the fragment is dropped but must be clean. */
    if (auth_end < n && s[auth_end] == '?')
        return FOTA_ERR_URL; /* "http://h?q": the path would need a '/' inserted */
    if (!valid_path_chars(s + auth_end, n - auth_end))
        return FOTA_ERR_URL;
    path_end = auth_end;
    while (path_end < n && s[path_end] != '#')
        path_end++;
    if (path_end == auth_end) {
        out->path = "/";
        out->path_len = 1;
    } else {
        out->path = s + auth_end;
        out->path_len = path_end - auth_end;
    }
    out->tls = (uint8_t)tls;
    out->host = s + host_start;
    out->host_len = host_end - host_start;
    out->port = port;
    return 0;
}

/* 1 for https, 0 for http, -1 for anything else (scheme of length slen). */
static int scheme_tls(const char *s, size_t slen)
{
    if (slen == 4 && equals_lit_ci(s, 4, "http"))
        return 0;
    if (slen == 5 && equals_lit_ci(s, 5, "https"))
        return 1;
    return -1;
}

int fota_url_parse(const char *s, struct fota_url *out)
{
    struct fota_url u;
    size_t n, slen;
    int tls;

    if (s == NULL || out == NULL)
        return FOTA_ERR_URL;
    n = bounded_len(s);
    if (n > URL_LEN_MAX)
        return FOTA_ERR_URL;
    slen = scheme_len(s, n);
    tls = scheme_tls(s, slen);
    if (tls < 0 || parse_hier(s, n, slen + 1, tls, &u) != 0)
        return FOTA_ERR_URL;
    *out = u;
    return 0;
}

int fota_url_host(const struct fota_url *u, char *out, size_t out_size)
{
    if (u == NULL || out == NULL || u->host == NULL)
        return FOTA_ERR_INVALID_ARG;
    if (u->host_len >= out_size)
        return FOTA_ERR_BUFFER_TOO_SMALL;
    memcpy(out, u->host, u->host_len);
    out[u->host_len] = '\0';
    return 0;
}

/* ---- Resolution ---------------------------------------------------------- */

/* "http://host[:port]" with the port only when it is not the default. */
static void put_origin(struct fota_writer *w, const struct fota_url *u)
{
    fota_put(w, u->tls ? "https://" : "http://", u->tls ? 8 : 7);
    fota_put_authority(w, u);
}

/*
 * remove_dot_segments (RFC 3986 5.2.4) of the path made of the segments of
 * `dir` (a path ending in '/', or empty) followed by those of `rel` (no
 * leading '/'), written as "/seg/seg..." into w.
 *
 * Done without a stack: scanning segments from the right, each ".." drops
 * the nearest surviving segment to its left, which is what the RFC's
 * left-to-right algorithm does. So pass one counts the result's length (the
 * exact size check), pass two writes it backwards into place.
 */
struct seg_walk {
    size_t skip;    /* ".." still waiting to drop a segment */
    size_t total;   /* bytes of output so far (pass one) */
    char *end;      /* pass two: write position, moving left; NULL in pass one */
};

static int is_dot(const char *s, size_t n)
{
    return n == 1 && s[0] == '.';
}

static int is_dotdot(const char *s, size_t n)
{
    return n == 2 && s[0] == '.' && s[1] == '.';
}

/* Walk the segments of s[0..n) right to left. s is "a/b/c" (first segment
 * starts at 0) or "/a/b/" (first segment after the leading '/'). */
static void walk_segments(struct seg_walk *wk, const char *s, size_t n, int leading_slash)
{
    size_t end = n, first = leading_slash ? 1 : 0;
    if (leading_slash && n == 0)
        return;
    for (;;) {
        size_t start = end;
        while (start > first && s[start - 1] != '/')
            start--;
        {
            const char *seg = s + start;
            size_t len = end - start;
            if (is_dotdot(seg, len)) {
                wk->skip++;
            } else if (is_dot(seg, len)) {
                /* nothing */
            } else if (wk->skip > 0) {
                wk->skip--;
            } else {
                wk->total += len + 1;
                if (wk->end != NULL) {
                    wk->end -= len;
                    memcpy(wk->end, seg, len);
                    *--wk->end = '/';
                }
            }
        }
        if (start <= first)
            break;
        end = start - 1; /* skip the '/' */
    }
}

static void walk_path(struct seg_walk *wk, const char *dir, size_t dir_len, const char *rel,
                      size_t rel_len)
{
    /* A final "." or ".." leaves a trailing '/': an empty last segment. */
    size_t last = rel_len;
    while (last > 0 && rel[last - 1] != '/')
        last--;
    if (is_dot(rel + last, rel_len - last) || is_dotdot(rel + last, rel_len - last)) {
        wk->total += 1;
        if (wk->end != NULL)
            *--wk->end = '/';
    }
    walk_segments(wk, rel, rel_len, 0);
    /* dir ends in '/': drop that to get its segments. */
    if (dir_len > 0)
        walk_segments(wk, dir, dir_len - 1, 1);
}

/* Appends the dot-free merge of dir + rel to w: count, check, write. */
static void put_merged_path(struct fota_writer *w, const char *dir, size_t dir_len, const char *rel,
                            size_t rel_len)
{
    struct seg_walk count = {0, 0, NULL}, write = {0, 0, NULL};
    /* total >= 1: the last segment of rel is never dropped (a final "." or
     * ".." becomes a trailing '/'), so the result always starts with '/'. */
    walk_path(&count, dir, dir_len, rel, rel_len);
    if (w->overflow || count.total >= w->size - w->len) {
        w->overflow = 1;
        return;
    }
    write.end = w->out + w->len + count.total;
    walk_path(&write, dir, dir_len, rel, rel_len);
    w->len += count.total;
}

/* Split a reference into path [0, path_end) and query [path_end, query_end)
 * (query including its '?'); the fragment is dropped. */
static void split_ref(const char *r, size_t n, size_t *path_end, size_t *query_end)
{
    size_t i = 0;
    while (i < n && r[i] != '?' && r[i] != '#')
        i++;
    *path_end = i;
    while (i < n && r[i] != '#')
        i++;
    *query_end = i;
}

static int ranges_overlap(const char *a, size_t a_len, const char *b, size_t b_len)
{
    uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a0 < b0 + b_len && b0 < a0 + a_len;
}

int fota_url_resolve(const char *base, const char *ref, char *out, size_t out_size)
{
    struct fota_url b, r, check;
    struct fota_writer w;
    size_t ref_n, path_end, query_end, slen;

    if (base == NULL || ref == NULL || out == NULL || out_size == 0)
        return FOTA_ERR_INVALID_ARG;
    ref_n = bounded_len(ref);
    if (ref_n > URL_LEN_MAX || !valid_path_chars(ref, ref_n))
        return FOTA_ERR_URL;
    /* The result is built in out while base and ref are still being read. */
    if (ranges_overlap(out, out_size, base, bounded_len(base) + 1) ||
        ranges_overlap(out, out_size, ref, ref_n + 1))
        return FOTA_ERR_INVALID_ARG;
    if (fota_url_parse(base, &b) != 0)
        return FOTA_ERR_URL;

    w.out = out;
    w.size = out_size;
    w.len = 0;
    w.overflow = 0;

    slen = scheme_len(ref, ref_n);
    if (slen > 0 || (ref_n >= 2 && ref[0] == '/' && ref[1] == '/')) {
        /* Absolute or scheme-relative: the ref's own origin, and its path
         * with dot segments removed. */
        if (slen > 0) {
            int tls = scheme_tls(ref, slen);
            if (tls < 0 || parse_hier(ref, ref_n, slen + 1, tls, &r) != 0)
                return FOTA_ERR_URL;
        } else if (parse_hier(ref, ref_n, 0, b.tls, &r) != 0) {
            return FOTA_ERR_URL;
        }
        split_ref(r.path, r.path_len, &path_end, &query_end);
        put_origin(&w, &r);
        put_merged_path(&w, "", 0, r.path + 1, path_end - 1);
        fota_put(&w, r.path + path_end, query_end - path_end);
    } else {
        split_ref(ref, ref_n, &path_end, &query_end);
        put_origin(&w, &b);
        if (path_end > 0 && ref[0] == '/') {
            put_merged_path(&w, "", 0, ref + 1, path_end - 1);
            fota_put(&w, ref + path_end, query_end - path_end);
        } else if (path_end > 0) {
            /* Relative path: merged with the base path up to its last '/'. */
            size_t dir_len, bp_end, bq_end;
            split_ref(b.path, b.path_len, &bp_end, &bq_end);
            dir_len = bp_end;
            while (dir_len > 0 && b.path[dir_len - 1] != '/')
                dir_len--;
            put_merged_path(&w, b.path, dir_len, ref, path_end);
            fota_put(&w, ref + path_end, query_end - path_end);
        } else {
            /* "?q", "#f" or "": the base path, with the ref's query if any. */
            size_t bp_end, bq_end;
            split_ref(b.path, b.path_len, &bp_end, &bq_end);
            fota_put(&w, b.path, bp_end);
            if (query_end > path_end)
                fota_put(&w, ref + path_end, query_end - path_end);
            else
                fota_put(&w, b.path + bp_end, bq_end - bp_end);
        }
    }
    if (w.overflow)
        return FOTA_ERR_BUFFER_TOO_SMALL;
    out[w.len] = '\0';
    /* The result must itself be a valid URL (e.g. the ref's characters). */
    if (fota_url_parse(out, &check) != 0)
        return FOTA_ERR_URL;
    return (int)w.len;
}
