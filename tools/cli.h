/* Subcommands of the fota command-line tool; each returns the exit status. */
#ifndef FOTA_TOOLS_CLI_H
#define FOTA_TOOLS_CLI_H

int cmd_keygen(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_mkimage(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_errors(int argc, char **argv);
int cmd_fleet(int argc, char **argv);

/* fota serve's "--name value" / "--name=value" parser (serve.c). */
const char *option_value(int argc, char **argv, int *i, const char *name, int *missing);
int cmd_delta(int argc, char **argv);
int cmd_patch(int argc, char **argv);
int cmd_compress(int argc, char **argv);

#endif
