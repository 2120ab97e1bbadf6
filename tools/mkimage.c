/* placeholder: implemented in a following commit */
#include <stdio.h>
#include "cli.h"
int cmd_mkimage(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "fota mkimage: not implemented yet\n");
    return 1;
}
