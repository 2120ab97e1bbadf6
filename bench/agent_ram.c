/* Prints the agent's RAM on this machine: the context struct and its parts
 * (one per module, docs/agent.md), and the configuration. */
#include <stdio.h>

#include "fota/fota.h"

int main(void)
{
    printf("| what | bytes |\n| --- | ---: |\n");
    printf("| struct fota (context, total) | %zu |\n", sizeof(struct fota));
    printf("| of which the session (struct fota_session) | %zu |\n",
           sizeof(struct fota_session));
    printf("| of which its HTTP parser (struct fota_http_parser) | %zu |\n",
           sizeof(struct fota_http_parser));
    printf("| of which the slot writer (struct fota_slot_writer) | %zu |\n",
           sizeof(struct fota_slot_writer));
    printf("| of which the persistent state (struct fota_state) | %zu |\n",
           sizeof(struct fota_state));
    printf("| of which struct fota_persist | %zu |\n", sizeof(struct fota_persist));
    printf("| of which the update (struct fota_update) | %zu |\n", sizeof(struct fota_update));
    printf("| of which struct fota_manifest | %zu |\n", sizeof(struct fota_manifest));
    printf("| of which struct fota_sha256 (backend context storage) | %zu |\n",
           sizeof(struct fota_sha256));
    printf("| of which the last failure (struct fota_report) | %zu |\n",
           sizeof(struct fota_report));
    printf("| struct fota_config (may live in flash as const) | %zu |\n",
           sizeof(struct fota_config));
    return 0;
}
