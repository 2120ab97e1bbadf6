#include "internal/msg.h"

#include <string.h>

#include "fota/fota.h"
#include "fota/url.h"

#ifndef FOTA_NO_MESSAGES
struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s)
{
    if (!s)
        s = "(null)";
    for (; *s; s++)
        put(o, *s);
}

static void put_uint(struct out *o, unsigned long v, unsigned base)
{
    char digits[24];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v && n < sizeof digits);
    while (n)
        put(o, digits[--n]);
}

static void put_int(struct out *o, int v)
{
    if (v < 0) {
        put(o, '-');
        put_uint(o, 0ul - (unsigned long)v, 10);
    } else {
        put_uint(o, (unsigned long)v, 10);
    }
}

size_t fota_vmsgf(char *out, size_t size, const char *fmt, va_list ap)
{
    struct out o = {out, size, 0};
    if (!out || size == 0)
        return 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        p++;
        switch (*p) {
        case 's':
            put_str(&o, va_arg(ap, const char *));
            break;
        case 'u':
            put_uint(&o, va_arg(ap, unsigned), 10);
            break;
        case 'x':
            put_uint(&o, va_arg(ap, unsigned), 16);
            break;
        case 'd':
            put_int(&o, va_arg(ap, int));
            break;
        case 'P': /* a port's result: "port returned -81 (FOTA_ERR_FLASH_WRITE)" */
        case 'E': {
            int err = va_arg(ap, int);
            if (*p == 'P') {
                put_str(&o, "port returned ");
                put_int(&o, err);
                put_str(&o, " (");
            }
            put_str(&o, fota_strerror(err));
            if (*p == 'P')
                put(&o, ')');
            break;
        }
        case 'H': { /* the host of an absolute URL */
            struct fota_url u;
            const char *url = va_arg(ap, const char *);
            if (url && fota_url_parse(url, &u) == 0) {
                for (size_t i = 0; i < u.host_len; i++)
                    put(&o, u.host[i]);
            } else {
                put(&o, '?');
            }
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            p--; /* lone '%' at the end */
            break;
        default:
            put(&o, '%');
            put(&o, *p);
            break;
        }
    }
    out[o.len] = '\0';
    return o.len;
}

size_t fota_msgf(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = fota_vmsgf(out, size, fmt, ap);
    va_end(ap);
    return n;
}

#endif

void fota_hex(const unsigned char *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
}

#ifdef FOTA_NO_MESSAGES
#undef fota_fail
#undef fota_log

int fota_fail_code(struct fota_report *rep, int err)
{
    rep->msg[0] = '\0';
    rep->err = err;
    return err;
}
#else
int fota_fail(struct fota_report *rep, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fota_vmsgf(rep->msg, sizeof rep->msg, fmt, ap);
    va_end(ap);
    rep->err = err;
    return err;
}

void fota_log(const struct fota_config *cfg, int level, const char *fmt, ...)
{
    char line[FOTA_MSG_MAX];
    va_list ap;
    if (!cfg->log)
        return;
    va_start(ap, fmt);
    fota_vmsgf(line, sizeof line, fmt, ap);
    va_end(ap);
    cfg->log(cfg->ctx, level, line);
}
#endif
