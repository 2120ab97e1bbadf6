/* placeholder: implemented in a following commit */
#include <stdio.h>
#include "cli.h"
int cmd_keygen(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "fota keygen: not implemented yet\n");
    return 1;
}
