/* placeholder: implemented in a following commit */
#include <stdio.h>
#include "cli.h"
int cmd_serve(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "fota serve: not implemented yet\n");
    return 1;
}
