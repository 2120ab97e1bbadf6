/* placeholder: implemented in a following commit */
#include <stdio.h>
#include "cli.h"
int cmd_sim(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "fota sim: not implemented yet\n");
    return 1;
}
