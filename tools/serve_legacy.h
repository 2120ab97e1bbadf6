/* fota serve: the stock Arduino HTTP-update protocol (ESP8266httpUpdate,
 * arduino-esp32 HTTPUpdate) beside fota's own files. docs/serve.md and
 * docs/migrate.md describe it; the wire facts are in
 * ../shared/reference/field-facts.md section 4. */
#ifndef FOTA_TOOLS_SERVE_LEGACY_H
#define FOTA_TOOLS_SERVE_LEGACY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* What a stock updater says about itself in its x-ESP8266-* / x-ESP32-*
 * headers: one check-in, for the answer here and for a fleet view. */
enum stock_family { STOCK_NONE = 0, STOCK_ESP8266 = 1, STOCK_ESP32 = 2 };

struct stock_checkin {
    int family;             /* enum stock_family */
    char mac[13];           /* STA MAC (ESP32 without Wi-Fi: BASE MAC) as {mac}: 12 upper hex */
    char mode[8];           /* "sketch", "spiffs" or "version" */
    char version[65];       /* x-*-version: what the sketch passed; "" when none */
    char sketch_md5[33];    /* lower-case hex; "" when not sent */
    char sketch_sha256[65]; /* lower-case hex (ESP32 only); "" when not sent */
    uint64_t sketch_size, free_space, chip_size;
    char sdk_version[65];
};

/* Reads one request header by name (case-insensitive), NULL when absent. */
typedef const char *(*stock_header_fn)(void *ctx, const char *name);

/* 1: a stock updater's request, *out filled; 0: not one (no STA/BASE MAC
 * header of either family); -1: one whose headers are malformed (an
 * unparsable MAC, a non-hex hash, an oversized value), with the reason in
 * note. Values are checked, so they can be stored or logged as they are. */
int stock_checkin_parse(stock_header_fn header, void *ctx, struct stock_checkin *out, char *note,
                        size_t note_size);

/* Opens a regular file by a path relative to the requested file's
 * directory ("<MAC>.bin", "groups/beta.bin"), never following symlinks.
 * Returns 0, or an HTTP status (404, 403, 500). */
typedef unsigned (*legacy_open_fn)(void *ctx, const char *rel, int *fd, struct stat *st);

struct legacy_answer {
    unsigned status;        /* 200, 304 or an error status */
    int fd;                 /* 200 with a body: the image (the caller sends and closes it) */
    uint64_t length;        /* of that body */
    char x_md5[33];         /* 200: the image's MD5 (lower-case hex), "" for none */
    char x_version[65];     /* mode=version, or the release's version when known */
    char served[300];       /* which file answered, relative to the request's directory */
    char note[512];         /* for the access log */
};

/* Answer a request for the file `name` (its last path segment).
 * A stock check-in (`stock` not NULL) gets the release meant for its MAC:
 * <MAC>.bin beside the requested file, else the group <MAC>.group names
 * (groups/<g>.bin), else the requested file, else default.bin; 304 when its sketch MD5 or
 * SHA-256, or its version header, matches that release (whose version is
 * in the .version beside it); mode=version gets 200 with x-version; a
 * sketch gets 200 with Content-Length and x-MD5. Without `stock`, a
 * missing <MAC>.version or <MAC>.bin is answered from the device's group or
 * the default release, so the seed sketch's plain GETs work too.
 * Returns 1 when it answered (*out set), 0 when the request is an ordinary
 * file request for serve.c. */
int legacy_answer(const struct stock_checkin *stock, const char *name, legacy_open_fn open_rel,
                  void *ctx, struct legacy_answer *out);

#endif
