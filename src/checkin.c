/* Check-in header fields on the manifest request: see fota/checkin.h. */
#include "fota/checkin.h"

#include <string.h>

#include "fota/error.h"
#include "fota/fota.h"
#include "internal/msg.h"
#include "internal/writer.h"

void fota_checkin_outcome_init(struct fota_checkin_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->event = FOTA_CHECKIN_NONE;
}

void fota_checkin_outcome_note(struct fota_checkin_outcome *o, int event, int error,
                               uint32_t version)
{
    switch (event) {
    case FOTA_EV_CHECKING:
        o->attempt_version = 0;
        break;
    case FOTA_EV_UPDATE_AVAILABLE:
        o->attempt_version = version;
        break;
    case FOTA_EV_FAILED:
        o->event = (uint8_t)event;
        o->error = error;
        o->version_code = o->attempt_version;
        break;
    case FOTA_EV_ACTIVATED:
    case FOTA_EV_CONFIRMED:
    case FOTA_EV_ROLLED_BACK:
        o->event = (uint8_t)event;
        o->error = 0;
        o->version_code = version;
        break;
    default: /* progress, not an outcome */
        break;
    }
}

static int id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '-';
}

static int valid_text(const char *s, size_t max, int id)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (id ? !id_char(s[i]) : (s[i] < 0x21 || s[i] > 0x7e))
            return 0;
    return 1;
}

static void put_int(struct fota_writer *w, int32_t v)
{
    if (v < 0) {
        fota_put(w, "-", 1);
        fota_put_uint(w, 0u - (uint32_t)v);
    } else {
        fota_put_uint(w, (uint64_t)v);
    }
}

int fota_checkin_append(char *req, size_t size, size_t len, const struct fota_checkin *c)
{
    if (!req || !c || !c->product || len < 4 || len >= size ||
        memcmp(req + len - 4, "\r\n\r\n", 4) != 0)
        return FOTA_ERR_INVALID_ARG;
    int has_id = c->device_id && c->device_id[0];
    if ((has_id && !valid_text(c->device_id, FOTA_CHECKIN_ID_MAX, 1)) ||
        !valid_text(c->product, FOTA_CHECKIN_PRODUCT_MAX, 0))
        return FOTA_ERR_INVALID_ARG;
    /* Write after the last header line, then end with the empty line again. */
    struct fota_writer w = {req, size, len - 2, 0};
    if (has_id) {
        fota_put_str(&w, "Fota-Id: ");
        fota_put_str(&w, c->device_id);
        fota_put_str(&w, "\r\n");
    }
    fota_put_str(&w, "Fota-Product: ");
    fota_put_str(&w, c->product);
    fota_put_str(&w, "\r\nFota-Version: ");
    fota_put_uint(&w, c->version_code);
    fota_put_str(&w, "\r\nFota-Sequence: ");
    fota_put_uint(&w, c->sequence);
    fota_put_str(&w, "\r\n");
    if (c->image_sha256) {
        char hex[65];
        fota_hex(c->image_sha256, 32, hex);
        fota_put_str(&w, "Fota-Image: ");
        fota_put(&w, hex, 64);
        fota_put_str(&w, "\r\n");
    }
    if (c->last.event != FOTA_CHECKIN_NONE) {
        fota_put_str(&w, "Fota-Last: ");
        fota_put_str(&w, fota_event_name(c->last.event));
        fota_put_str(&w, " ");
        put_int(&w, c->last.error);
        fota_put_str(&w, " ");
        fota_put_uint(&w, c->last.version_code);
        fota_put_str(&w, "\r\n");
    }
    fota_put_str(&w, "\r\n");
    if (w.overflow) {
        req[len] = '\0'; /* the request as it was */
        memcpy(req + len - 2, "\r\n", 2);
        return FOTA_ERR_BUFFER_TOO_SMALL;
    }
    req[w.len] = '\0';
    return (int)w.len;
}
