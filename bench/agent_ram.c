/* Prints the agent's RAM on this machine: the context struct and its parts,
 * and the buffers of the configurations recommended in docs/agent.md. */
#include <stdio.h>

#include "fota/fota.h"

int main(void)
{
    printf("| what | bytes |\n| --- | ---: |\n");
    printf("| struct fota (context, total) | %zu |\n", sizeof(struct fota));
    printf("| of which struct fota_http_parser | %zu |\n", sizeof(struct fota_http_parser));
    printf("| of which struct fota_manifest | %zu |\n", sizeof(struct fota_manifest));
    printf("| of which struct fota_sha256 (backend context storage) | %zu |\n",
           sizeof(struct fota_sha256));
    printf("| of which struct fota_persist | %zu |\n", sizeof(struct fota_persist));
    printf("| struct fota_config (may live in flash as const) | %zu |\n",
           sizeof(struct fota_config));
    return 0;
}
