/* Bounded message formatting for the core (no stdio): %s %u %d %x %%, and
 * %H: the host of an absolute URL given as a string (the session keeps no
 * copy of the host; '?' when the URL does not parse);
 * %E: an error code's name (int; fota_strerror);
 * %P: "port returned <code> (<name>)" for a port's int result.
 * %E and %P print what the call sites printed before with fota_strerror():
 * one conversion here instead of a call at each of ~20 sites.
 * Integer arguments are read as unsigned / int: cast uint32_t at the call. */
#ifndef FOTA_SRC_MSG_H
#define FOTA_SRC_MSG_H

#include <stdarg.h>
#include <stddef.h>

/* Format into out[0..size), always NUL-terminated, truncating. Returns the
 * length written. */
size_t fota_msgf(char *out, size_t size, const char *fmt, ...);
size_t fota_vmsgf(char *out, size_t size, const char *fmt, va_list ap);

struct fota_report;
struct fota_config;

/* Report a failure: store its code and its message (naming the step and the
 * cause) in *rep. Returns err. */
int fota_fail(struct fota_report *rep, int err, const char *fmt, ...);

/* A message to the configuration's log callback, if there is one. */
void fota_log(const struct fota_config *cfg, int level, const char *fmt, ...);

#ifdef FOTA_NO_MESSAGES
/* For the smallest devices (docs/size-report.md): no message text in flash.
 * A failure keeps its code (fota_last_message() gives the code's name); the
 * log callback is never called. The arguments are not evaluated, so a
 * message site must not compute anything the code after it needs. */
int fota_fail_code(struct fota_report *rep, int err);
/* Never called: keeps the arguments "used" so the sites compile unchanged. */
static inline int fota_msg_dropped(const char *fmt, ...)
{
    (void)fmt;
    return 0;
}
#define fota_fail(rep, err, ...) (0 ? fota_msg_dropped(__VA_ARGS__) : fota_fail_code((rep), (err)))
#define fota_log(cfg, level, ...) \
    ((void)(0 ? fota_msg_dropped(__VA_ARGS__) : 0), (void)(cfg), (void)(level))
#endif

/* Lower-case hex of `len` bytes into out (2*len+1 bytes). */
void fota_hex(const unsigned char *data, size_t len, char *out);

#endif
