/* fota: keys, signed releases, image inspection, a firmware server and a
 * simulated device. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fota/fota.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"keygen", cmd_keygen, "create a P-256 signing key pair (and a C header of the public key)"},
    {"release", cmd_release, "sign a firmware image and lay out a release directory"},
    {"inspect", cmd_inspect, "show what an image or a manifest holds"},
    {"mkimage", cmd_mkimage, "build a synthetic ESP32-format test image"},
    {"serve", cmd_serve, "serve a release directory over HTTP"},
    {"sim", cmd_sim, "run a simulated device that updates itself"},
    {"errors", cmd_errors, "list the error codes: code, name, transient or final, meaning"},
    {"fleet", cmd_fleet, "administer a fleet server: devices, groups, releases, rollouts"},
    {"delta", cmd_delta, "make a patch that rebuilds a new image from an old one"},
    {"patch", cmd_patch, "apply a patch or compressed image with the device's decoder"},
    {"compress", cmd_compress, "make a compressed image the device can decode"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: fota <command> [options]   (fota <command> --help)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("fota %s\n", FOTA_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "fota: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
