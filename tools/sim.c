/* fota sim: a simulated device that runs the real agent against a real server. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "device.h"
#include "sim_transports.h"
#include "fota/esp_image.h"
#include "keys.h"
#include "util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fota sim --url MANIFEST_URL --key KEY.pub --product ID [options]\n"
            "\n"
            "Runs a simulated ESP32-class device whose flash lives in DIR/flash.bin: it boots\n"
            "through a simulated ESP-IDF bootloader, confirms its image, checks MANIFEST_URL,\n"
            "downloads, verifies and activates an update, reboots into it and confirms it\n"
            "(or rolls back when the new image crashes before confirming).\n"
            "\n"
            "  --url URL          manifest URL (may contain {mac})\n"
            "  --mac MAC          this device's MAC, 12 upper-case hex digits, for {mac}\n"
            "  --id ID            the id it checks in with (default: the MAC)\n"
            "  --key FILE         trusted public key (.pub or .key PEM; repeatable, up to 4)\n"
            "  --product ID       this device's product id\n"
            "  --chip NAME        this device's chip [esp32]\n"
            "  --dir DIR          device state directory [./fota-sim-device]\n"
            "  --factory IMAGE    program IMAGE into slot 0 first (erases the whole flash)\n"
            "  --slot-size BYTES  size of each OTA slot [2097152]\n"
            "  --max-boots N      stop after N boots [8]\n"
            "  --checks N         once settled, check N-1 more times without rebooting [1]\n"
            "  --check-only       only report whether an update is available\n"
            "  --attempts N       attempts per check [5]\n"
            "  --backoff MS       first retry delay [1000]\n"
            "  --timeout MS       connect and read timeout [10000]\n"
            "  --deadline MS      total time per attempt [3600000]\n"
            "  --min-rate BPS     minimum download rate over 10 s windows [16]\n"
            "  --utc SECONDS      the device's trusted time (default: host clock)\n"
            "  --no-clock         the device has no trusted time (expiry cannot be checked)\n"
            "  --buffers RX,LINE,URL,MANIFEST  the agent's buffer sizes [4096,2816,2080,2080]\n"
            "                     (a port's defaults: see docs/agent.md)\n"
            "  --no-image-hash    the port does not report the running image's SHA-256\n"
            "                     (the agent then judges by version codes alone)\n"
            "  --floor-min N      the firmware's build-time anti-rollback floor [0]\n"
            "  --allow-insecure-redirect  follow a redirect from https:// to http://\n"
            "  --no-delta         full images only, even when the release offers patches\n"
            "  --data LABEL:SIZE  a data partition LABEL of SIZE bytes after the slots, which\n"
            "                     a release's data image for LABEL updates\n"
            "\n"
            "Timing model (docs/sim.md): simulated time, from the model alone.\n"
            "  --flash-model CHIP flash operation times of esp32 or esp8266 [the --chip's]\n"
            "  --flash-timing SECTOR_US,BLOCK_US,PROGRAM_OP_US,PROGRAM_NS_PER_BYTE,READ_NS_PER_BYTE\n"
            "                     override them (esp32: 45000,150000,195,1231,152)\n"
            "  --block-size BYTES the erase block the port offers [esp32 65536, esp8266 4096]\n"
            "  --link RATE[,LATENCY_MS[,WINDOW[,MSS]]]  model the link: bytes/s, one-way\n"
            "                     latency [2], TCP receive window [5760], segment [1440];\n"
            "                     then the device time of an update and its bound are printed\n"
            "  --quiet | --verbose\n"
            "  --ca FILE          trusted CA (PEM bundle or DER) for https:// URLs\n"
            "  --modem TTY        a SIM800 modem on TTY (e.g. sim800sim's pty): transport\n"
            "                     \"gsm\", tried after \"wifi\"\n"
            "  --apn APN          the modem's access point name [internet]\n"
            "  --wifi-down        \"wifi\" fails every connect (fallback tests)\n"
            "  --no-wifi          only \"gsm\"\n"
            "\n"
            "Exit status: 0 up to date or updated, 1 update failed, 2 usage, 3 bricked,\n"
            "4 rolled back, 5 update available (--check-only).\n");
}

static double secs(uint64_t us)
{
    return (double)us / 1e6;
}

/* What an update of `size` bytes cannot beat on this flash: its erase in the
 * port's largest units (the last partial block in sectors or as one block,
 * whichever is quicker) and one program of all its bytes. */
static uint64_t flash_bound_us(const struct sim_flash_timing *t, const struct fota_flash *f,
                               uint32_t size)
{
    uint32_t ss = f->sector_size, bs = f->block_size > ss ? f->block_size : ss;
    uint64_t blocks = size / bs, rest_sectors = ((size % bs) + ss - 1) / ss;
    uint64_t unit = bs > ss ? t->block_erase_us : t->sector_erase_us;
    uint64_t rest = rest_sectors * t->sector_erase_us;
    if (rest_sectors && bs > ss && unit < rest)
        rest = unit;
    return blocks * unit + rest + sim_program_us(t, size);
}

/* The simulated time (docs/sim.md) and, with a link model, the update's
 * device time against its bound: max(link time, flash time). */
static void report_time(const struct sim_device *d, const struct sim_flash *fl)
{
    const struct sim_options *o = d->opt;
    printf("time: %.3f s simulated (flash erase %.3f s, program %.3f s, read %.3f s)%s\n",
           secs(d->clock.us), secs(fl->erase_us), secs(fl->program_us), secs(fl->read_us),
           o->link ? "" : "; link not modelled (--link)");
    if (!d->update_us)
        return;
    printf("update: %u bytes in %.3f s simulated (check, download, verify, activate; flash "
           "busy %.3f s, waiting for the link %.3f s)\n",
           (unsigned)d->update_bytes, secs(d->update_us), secs(d->update_flash_us),
           secs(d->update_wait_us));
    if (!o->link)
        return;
    uint64_t link_us = sim_link_bound_us(o->link, d->update_bytes);
    uint64_t flash_us = flash_bound_us(o->flash_timing, &fl->iface, d->update_bytes);
    uint64_t bound = link_us > flash_us ? link_us : flash_us;
    printf("bound: link %.3f s (%u B/s, %u ms latency), flash %.3f s (%s, %u-byte erase "
           "blocks)\n",
           secs(link_us), (unsigned)o->link->rate, (unsigned)(o->link->latency_us / 1000),
           secs(flash_us), o->flash_timing->name, (unsigned)fl->iface.block_size);
    printf("device time: %.2f s, bound: %.2f s, ratio: %.3f\n", secs(d->update_us), secs(bound),
           (double)d->update_us / (double)bound);
}

int cmd_sim(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, 0, 'u'},        {"key", required_argument, 0, 'k'},
        {"product", required_argument, 0, 'p'},    {"chip", required_argument, 0, 'c'},
        {"dir", required_argument, 0, 'd'},        {"factory", required_argument, 0, 'f'},
        {"slot-size", required_argument, 0, 's'},  {"max-boots", required_argument, 0, 'b'},
        {"check-only", no_argument, 0, 'C'},       {"attempts", required_argument, 0, 'a'},
        {"backoff", required_argument, 0, 'B'},    {"timeout", required_argument, 0, 't'},
        {"deadline", required_argument, 0, 'D'},   {"min-rate", required_argument, 0, 'R'},
        {"utc", required_argument, 0, 'T'},        {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'}, {"no-delta", no_argument, 0, 'Z'},          {"checks", required_argument, 0, 'n'},
        {"no-clock", no_argument, 0, 'N'},       {"help", no_argument, 0, 'h'},
        {"no-image-hash", no_argument, 0, 1101},  {"buffers", required_argument, 0, 1102},
        /* transports (sim/sim800/sim_transports.h) */
        {"ca", required_argument, 0, 1001},        {"modem", required_argument, 0, 1002},
        {"apn", required_argument, 0, 1003},       {"wifi-down", no_argument, 0, 1004},
        {"no-wifi", no_argument, 0, 1005},         {"mac", required_argument, 0, 1006},
        {"floor-min", required_argument, 0, 1007}, {"allow-insecure-redirect", no_argument, 0, 1008},
        {"id", required_argument, 0, 1009},        {"data", required_argument, 0, 1010},
        {"flash-model", required_argument, 0, 1201}, {"flash-timing", required_argument, 0, 1202},
        {"block-size", required_argument, 0, 1203},  {"link", required_argument, 0, 1204},
        {0, 0, 0, 0}};
    static uint8_t keys[FOTA_MAX_KEYS][FOTA_P256_PUBKEY_SIZE];
    struct sim_options opt = {0};
    struct sim_transport_options topt = {0};
    const char *dir = "./fota-sim-device", *factory = NULL, *chip = "esp32", *data_spec = NULL;
    uint32_t slot_size = 2u << 20, max_boots = 8, checks = 1, utc = 0, block_size = 0;
    const char *flash_model = NULL, *flash_timing = NULL;
    static struct sim_flash_timing timing;
    static struct sim_link_model link;
    int c;

    opt.progress = 1;
    optind = 1;
    int opt_index = 0;
    while ((c = getopt_long(argc, argv, "", longopts, &opt_index)) != -1) {
        uint32_t *num = NULL;
        switch (c) {
        case 'u': opt.manifest_url = optarg; break;
        case 'k':
            if (opt.n_pubkeys == FOTA_MAX_KEYS) {
                fprintf(stderr, "fota sim: at most %d keys\n", FOTA_MAX_KEYS);
                return 2;
            }
            {
                struct tool_key k;
                if (keys_load_any(optarg, &k) < 0)
                    return 2;
                memcpy(keys[opt.n_pubkeys++], k.pub, sizeof k.pub);
                keys_free(&k);
            }
            break;
        case 'p': opt.product = optarg; break;
        case 'c': chip = optarg; break;
        case 'd': dir = optarg; break;
        case 'f': factory = optarg; break;
        case 's': num = &slot_size; break;
        case 'b': num = &max_boots; break;
        case 'C': opt.check_only = 1; break;
        case 'a': num = &opt.max_attempts; break;
        case 'B': num = &opt.backoff_base_ms; break;
        case 't':
            num = &opt.read_timeout_ms;
            break;
        case 'D': num = &opt.total_timeout_ms; break;
        case 'R': num = &opt.min_bytes_per_s; break;
        case 'T': num = &utc; break;
        case 'N': opt.no_clock = 1; break;
        case 1101: opt.no_image_sha256 = 1; break;
        case 1102:
            if (sscanf(optarg, "%u,%u,%u,%u", &opt.rx_size, &opt.line_size, &opt.url_size,
                       &opt.manifest_size) != 4) {
                fprintf(stderr, "fota sim: --buffers '%s' is not RX,LINE,URL,MANIFEST\n", optarg);
                return 2;
            }
            break;
        case 1006: opt.mac = optarg; break;
        case 1007: num = &opt.floor_min; break;
        case 1008: opt.allow_insecure_redirect = 1; break;
        case 1009: opt.device_id = optarg; break;
        case 1010: data_spec = optarg; break;
        case 1201: flash_model = optarg; break;
        case 1202: flash_timing = optarg; break;
        case 1203: num = &block_size; break;
        case 1204:
            if (sim_link_parse(optarg, &link) < 0) {
                fprintf(stderr, "fota sim: --link '%s' is not RATE[,LATENCY_MS[,WINDOW[,MSS]]] "
                        "(positive numbers, MSS <= WINDOW)\n", optarg);
                return 2;
            }
            opt.link = &link;
            break;
        case 'q': opt.quiet = 1; opt.progress = 0; break;
        case 'v': opt.verbose = 1; break;
        case 'Z': opt.no_delta = 1; break;
        case 'n': num = &checks; break;
        case 1001: topt.ca_file = optarg; break;
        case 1002: topt.modem_tty = optarg; break;
        case 1003: topt.apn = optarg; break;
        case 1004: topt.wifi_down = 1; break;
        case 1005: topt.no_wifi = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (num && util_parse_u32(optarg, num) < 0) {
            fprintf(stderr, "fota sim: --%s '%s' is not a number 0..4294967295\n",
                    longopts[opt_index].name, optarg);
            return 2;
        }
    }
    opt.connect_timeout_ms = opt.read_timeout_ms;
    opt.utc_now = utc;
    if (!opt.manifest_url || !opt.product || opt.n_pubkeys == 0 || optind != argc) {
        fprintf(stderr, "fota sim: --url, --key and --product are required\n");
        usage(stderr);
        return 2;
    }
    opt.pubkeys = (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])keys;
    opt.chip = fota_chip_from_name(chip, strlen(chip));
    if (opt.chip < 0) {
        fprintf(stderr, "fota sim: unknown chip '%s'\n", chip);
        return 2;
    }
    if (!flash_model)
        flash_model = strcmp(chip, "esp8266") == 0 ? "esp8266" : "esp32";
    if (sim_flash_timing_preset(flash_model, &timing) < 0) {
        fprintf(stderr, "fota sim: --flash-model '%s' is not esp32 or esp8266\n", flash_model);
        return 2;
    }
    if (flash_timing && sscanf(flash_timing, "%u,%u,%u,%u,%u", &timing.sector_erase_us,
                               &timing.block_erase_us, &timing.program_op_us,
                               &timing.program_ns_per_byte, &timing.read_ns_per_byte) != 5) {
        fprintf(stderr, "fota sim: --flash-timing '%s' is not five numbers (see --help)\n",
                flash_timing);
        return 2;
    }
    opt.flash_timing = &timing;
    if (!block_size) /* ESP-IDF erases 64 KiB blocks; the ESP8266 SDK sectors only */
        block_size = strcmp(flash_model, "esp8266") == 0 ? 4096 : 65536;
    if (block_size % 4096 || block_size > 65536) {
        fprintf(stderr, "fota sim: --block-size must be a multiple of 4096 up to 65536\n");
        return 2;
    }
    if (slot_size < 65536 || slot_size > (64u << 20) || max_boots == 0) {
        fprintf(stderr, "fota sim: --slot-size must be 64 KiB..64 MiB and --max-boots > 0\n");
        return 2;
    }

    struct sim_layout layout;
    sim_layout(&layout, (uint32_t)slot_size);
    if (data_spec) {
        const char *colon = strchr(data_spec, ':');
        char label[32];
        uint32_t data_size = 0;
        if (!colon || (size_t)(colon - data_spec) >= sizeof label ||
            util_parse_u32(colon + 1, &data_size) < 0) {
            fprintf(stderr, "fota sim: --data wants LABEL:SIZE, not '%s'\n", data_spec);
            return 2;
        }
        memcpy(label, data_spec, (size_t)(colon - data_spec));
        label[colon - data_spec] = '\0';
        if (sim_layout_add_data(&layout, label, data_size) < 0) {
            fprintf(stderr, "fota sim: --data: a label of 1..16 characters and a size of 1 "
                            "byte..64 MiB\n");
            return 2;
        }
        printf("data partition '%s': %u bytes at 0x%x of %s/flash.bin\n", layout.data_label,
               (unsigned)layout.data_size, (unsigned)layout.data_addr, dir);
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "fota sim: cannot create %s: %s\n", dir, strerror(errno));
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/flash.bin", dir);
    struct stat st;
    if (factory && stat(path, &st) == 0 && (uint64_t)st.st_size != layout.flash_size)
        remove(path); /* reprogramming with another layout */
    static struct sim_flash flash;
    if (sim_flash_open(&flash, path, layout.flash_size, 4096, 4) < 0) {
        fprintf(stderr, "fota sim: %s\n", flash.error);
        return 2;
    }
    flash.iface.block_size = block_size;
    if (factory) {
        size_t len;
        uint8_t *img = util_read_file(factory, &len);
        if (!img)
            return 2;
        if (sim_factory_program(&flash, &layout, img, (uint32_t)len) < 0) {
            fprintf(stderr, "fota sim: %s (%zu bytes) does not fit a %u-byte slot\n", factory,
                    len, (unsigned)slot_size);
            free(img);
            return 2;
        }
        printf("factory: programmed %s (%zu bytes) into slot 0 of %s\n", factory, len, path);
        free(img);
    }

    static struct sim_transports transports;
    char terr[256];
    topt.tls_check_time = opt.utc_now == 0; /* the host clock is trusted */
    if (sim_transports_setup(&transports, &topt, terr, sizeof terr) < 0) {
        fprintf(stderr, "fota sim: %s\n", terr);
        return 2;
    }
    for (size_t i = 0; i < transports.n; i++)
        opt.transports[i] = transports.list[i];
    opt.n_transports = transports.n;

    static struct sim_device dev;
    sim_device_init(&dev, &opt, &flash, &layout);
    int r = sim_device_run(&dev, (uint32_t)max_boots);
    for (uint32_t i = 1; i < checks && (r == SIM_UP_TO_DATE || r == SIM_UPDATED); i++) {
        int c2 = sim_device_check(&dev);
        if (c2 != SIM_UP_TO_DATE)
            r = c2 == SIM_UPDATED ? SIM_AVAILABLE : c2; /* would need a reboot: report it */
    }
    const char *tr = dev.transport_used ? dev.transport_used : "-";
    switch (r) {
    case SIM_UP_TO_DATE:
        printf("result: up to date, running %s\n", dev.version);
        break;
    case SIM_UPDATED:
        printf("result: updated %s -> %s and confirmed (via %s)\n", dev.first_version,
               dev.version, tr);
        break;
    case SIM_AVAILABLE:
        printf("result: update available: %s, running %s\n", fota_last_manifest(&dev.agent)->version,
               dev.version);
        break;
    case SIM_ROLLED_BACK:
        printf("result: rolled back; running %s%s%s\n", dev.version,
               dev.message[0] ? "; " : "", dev.message);
        break;
    case SIM_BRICKED:
        printf("result: BRICKED: %s\n", dev.message);
        break;
    default:
        printf("result: update failed, running %s: %s: %s\n", dev.version,
               fota_strerror(dev.error), dev.message);
        break;
    }
    report_time(&dev, &flash);
    sim_transports_free(&transports);
    sim_flash_close(&flash);
    static const int status[] = {0, 0, 5, 1, 3, 4};
    return r >= 0 && r <= SIM_ROLLED_BACK ? status[r] : 1;
}
