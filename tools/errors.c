/* fota errors: the error table (FOTA_ERROR_TABLE, fota/error.h) for scripts
 * and docs. One line per code: code, name, transient or final, meaning. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fota/error.h"

int cmd_errors(int argc, char **argv)
{
    int markdown = argc > 1 && !strcmp(argv[1], "--markdown");
    if (argc > 1 && !markdown) {
        fprintf(stdout, "usage: fota errors [--markdown]\n"
                        "  prints every fota error code: code, name, transient|final, meaning\n"
                        "  (tab-separated, or as a Markdown table)\n");
        return strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? 2 : 0;
    }
    if (markdown)
        printf("| code | name | retried | meaning |\n| ---: | --- | --- | --- |\n");
#define ROW_(name, code, class, meaning)                                                   \
    printf(markdown ? "| %d | `%s` | %s | %s |\n" : "%d\t%s\t%s\t%s\n", code, #name,        \
           fota_err_is_transient(code) ? (markdown ? "yes" : "transient")                  \
                                       : (markdown ? "no" : "final"),                      \
           meaning);
    FOTA_ERROR_TABLE(ROW_)
#undef ROW_
    return 0;
}
