/* fota fleet subcommands implemented outside cli.c. */
#ifndef FOTA_FLEET_CLI_H
#define FOTA_FLEET_CLI_H

/* fota fleet sim: the load generator (loadgen.c); argv[0] is "sim". */
int fleet_sim_main(int argc, char **argv);

#endif
