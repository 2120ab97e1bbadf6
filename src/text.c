/* The out-of-line ASCII helpers of text.h: one copy for the HTTP parser and
 * the URL parser. */
#include "internal/text.h"

int equals_lit_ci(const char *s, size_t n, const char *lit)
{
    for (size_t i = 0; i < n; i++) {
        if (lit[i] == '\0' || ascii_lower(s[i]) != lit[i])
            return 0;
    }
    return lit[n] == '\0';
}
