/*
 * fota fleet: the command line over the fleet admin API (docs/fleet.md).
 *
 *   fota fleet [--server URL] [--token T | --token-file F] [--json] NOUN VERB ...
 *
 * The server and token come from the options, else FOTA_FLEET_URL and
 * FOTA_FLEET_TOKEN, else http://127.0.0.1:8081. `token add` and `sim` work
 * without the API (the first on the database file itself).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin.h"
#include "cli.h"
#include "fleet.h"
#include "fleet_cli.h"
#include "util.h"

struct client {
    const char *server;
    char token[300];
    int json;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fota fleet [--server URL] [--token T | --token-file F] [--json] NOUN VERB ...\n"
            "\n"
            "  devices [list] [--product P]          every device the server has seen\n"
            "  devices show ID\n"
            "  devices set ID [--channel C] [--pin RELEASE | --unpin]\n"
            "  groups [list]\n"
            "  groups add|remove NAME DEVICE...\n"
            "  releases [list]\n"
            "  releases add MANIFEST                 a manifest signed offline by fota release\n"
            "  releases show ID\n"
            "  rollouts [list]\n"
            "  rollouts show ID                      waves, counts, state, why, history\n"
            "  rollouts create --release ID [--waves 1%%,10%%,50%%,100%%] [--channel C]\n"
            "                  [--groups G1,G2] [--success PCT] [--failure PCT]\n"
            "                  [--min-sample N] [--per-minute N]\n"
            "  rollouts pause|resume|abort ID [--reason TEXT]\n"
            "  rollouts rollback ID                  how to go back: what to release next\n"
            "  token add --db DB [--name NAME]       create an admin token (prints it once)\n"
            "  sim ...                               many simulated devices (fota fleet sim --help)\n"
            "\n"
            "Server: --server, else $FOTA_FLEET_URL, else http://127.0.0.1:8081.\n"
            "Token: --token, --token-file, else $FOTA_FLEET_TOKEN.\n"
            "Exit status: 0 done, 1 refused or failed (the reason is printed), 2 usage.\n");
}

/* ---- A small HTTP/1.1 client for the admin API (plain HTTP, loopback) ------ */

struct reply {
    int status;
    char *body;
};

static int api(const struct client *c, const char *method, const char *path, const char *ctype,
               const char *body, struct reply *out)
{
    memset(out, 0, sizeof out[0]);
    const char *p = c->server;
    if (strncmp(p, "http://", 7) != 0) {
        fprintf(stderr, "fota fleet: server %s: only http:// URLs\n", c->server);
        return -1;
    }
    p += 7;
    char host[256], port[8] = "80";
    size_t hl;
    if (*p == '[') {
        hl = strcspn(p + 1, "]");
        snprintf(host, sizeof host, "%.*s", (int)hl, p + 1);
        p += hl + 2;
    } else {
        hl = strcspn(p, ":/");
        snprintf(host, sizeof host, "%.*s", (int)hl, p);
        p += hl;
    }
    if (*p == ':') {
        size_t pl = strcspn(p + 1, "/");
        snprintf(port, sizeof port, "%.*s", (int)(pl < 7 ? pl : 7), p + 1);
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g) {
        fprintf(stderr, "fota fleet: server %s: %s\n", c->server, gai_strerror(g));
        return -1;
    }
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(stderr, "fota fleet: cannot connect to the admin API at %s: %s\n", c->server,
                strerror(errno));
        if (s >= 0)
            close(s);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct timeval tv = {30, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t blen = body ? strlen(body) : 0;
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "%s /api/v1/%s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
                     "%s%s%s"
                     "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                     method, path, host, port, c->token[0] ? "Authorization: Bearer " : "",
                     c->token, c->token[0] ? "\r\n" : "", ctype ? ctype : "application/json",
                     blen);
    int ok = n > 0 && (size_t)n < sizeof head && write(s, head, (size_t)n) == n &&
             (!blen || write(s, body, blen) == (ssize_t)blen);
    size_t len = 0, cap = 8192;
    char *buf = malloc(cap + 1);
    while (ok && buf) {
        if (len == cap) {
            char *more = realloc(buf, cap * 2 + 1);
            if (!more)
                break;
            buf = more;
            cap *= 2;
        }
        ssize_t r = read(s, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(s);
    if (!ok || !buf || len < 12 || sscanf(buf, "HTTP/1.%*c %d", &out->status) != 1) {
        fprintf(stderr, "fota fleet: no valid answer from %s\n", c->server);
        free(buf);
        return -1;
    }
    buf[len] = 0;
    char *b = strstr(buf, "\r\n\r\n");
    out->body = strdup(b ? b + 4 : "");
    free(buf);
    return out->body ? 0 : -1;
}

/* Call the API and parse its JSON; prints the server's error and returns
 * NULL when it refused. */
static json_t *call(const struct client *c, const char *method, const char *path,
                    const char *ctype, const char *body)
{
    struct reply r;
    if (api(c, method, path, ctype, body, &r) < 0)
        return NULL;
    json_error_t je;
    json_t *j = json_loads(r.body, 0, &je);
    if (r.status >= 300) {
        const char *e = json_string_value(json_object_get(j, "error"));
        fprintf(stderr, "fota fleet: %s %s: %d: %s\n", method, path, r.status, e ? e : r.body);
        json_decref(j);
        j = NULL;
    } else if (!j) {
        fprintf(stderr, "fota fleet: %s %s: the answer is not JSON: %s\n", method, path, je.text);
    }
    free(r.body);
    return j;
}

/* ---- Output ------------------------------------------------------------------- */

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static long long num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static int print_json(json_t *j)
{
    char *t = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (t)
        printf("%s\n", t);
    free(t);
    json_decref(j);
    return 0;
}

static void print_device(json_t *d, int long_form)
{
    json_t *last = json_object_get(d, "last");
    char outcome[96] = "-";
    if (json_is_object(last)) {
        long long e = num(last, "error");
        snprintf(outcome, sizeof outcome, "%s%s%s%s %lld", str(last, "event"), e ? " " : "",
                 e ? str(last, "error_name") : "", "", num(last, "version_code"));
    }
    if (!long_form) {
        printf("%-20s %-12s %-8s %10lld  %-34s %s\n", str(d, "id"), str(d, "product"),
               str(d, "channel"), num(d, "version_code"), outcome, str(d, "last_seen"));
        return;
    }
    printf("device     %s\nproduct    %s\nprotocol   %s\nchannel    %s\ngroups     %s\n",
           str(d, "id"), str(d, "product"), str(d, "protocol"), str(d, "channel"),
           str(d, "groups"));
    printf("version    %lld%s%s\nsequence   %lld\nimage      %s\nlast       %s\n",
           num(d, "version_code"), *str(d, "version") != '-' && *str(d, "version") ? " " : "",
           *str(d, "version") != '-' ? str(d, "version") : "", num(d, "sequence"),
           *str(d, "image") ? str(d, "image") : "-", outcome);
    json_t *pin = json_object_get(d, "pinned_release");
    if (json_is_integer(pin))
        printf("pinned     release %lld\n", (long long)json_integer_value(pin));
    printf("address    %s\nfirst seen %s\nlast seen  %s\ndecision   %s\n", str(d, "address"),
           str(d, "first_seen"), str(d, "last_seen"), str(d, "decision"));
}

static void print_rollout(json_t *r, int long_form)
{
    json_t *dev = json_object_get(r, "devices");
    if (!long_form) {
        printf("%-4lld %-10s %-10s %-8s wave %lld/%zu  %4lld ok %4lld failed %4lld pending  %s\n",
               num(r, "id"), str(r, "version"), str(r, "state"), str(r, "channel"),
               num(r, "wave"), json_array_size(json_object_get(r, "waves")),
               num(dev, "succeeded"), num(dev, "failed"), num(dev, "offered"), str(r, "reason"));
        return;
    }
    printf("rollout %lld: %s %s to channel %s%s%s\n", num(r, "id"), str(r, "product"),
           str(r, "version"), str(r, "channel"), *str(r, "groups") ? ", groups " : "",
           str(r, "groups"));
    printf("state   %s%s%s\n", str(r, "state"), *str(r, "reason") ? ": " : "", str(r, "reason"));
    printf("devices %lld succeeded, %lld failed or rolled back, %lld in progress\n",
           num(dev, "succeeded"), num(dev, "failed"), num(dev, "offered"));
    printf("rules   next wave at %lld%% success; pause above %lld%% failures (minimum sample "
           "%lld)%s",
           num(r, "success_pct"), num(r, "failure_pct"), num(r, "min_sample"),
           num(r, "per_minute") ? "; " : "\n");
    if (num(r, "per_minute"))
        printf("at most %lld starts per minute\n", num(r, "per_minute"));
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(r, "waves"), i, w) {
        json_t *t = json_object_get(w, "targeted");
        printf("  wave %zu %-8s %s%s", i + 1, str(w, "size"),
               json_is_true(json_object_get(w, "current")) ? "current, " : "",
               json_is_string(json_object_get(w, "opened")) ? "opened " : "not opened");
        if (json_is_string(json_object_get(w, "opened")))
            printf("%s, %lld devices targeted", str(w, "opened"),
                   (long long)json_integer_value(t));
        printf("\n");
    }
    json_t *h = json_object_get(r, "history");
    if (json_array_size(h))
        printf("history\n");
    json_array_foreach(h, i, w) printf("  %s %s\n", str(w, "at"), str(w, "text"));
}

/* ---- Verbs ----------------------------------------------------------------------- */

static int list(const struct client *c, const char *path, const char *key,
                void (*row)(json_t *, int), const char *header)
{
    json_t *j = call(c, "GET", path, NULL, NULL);
    if (!j)
        return 1;
    if (c->json)
        return print_json(j);
    if (header)
        printf("%s\n", header);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, key), i, v) row(v, 0);
    json_decref(j);
    return 0;
}

static int show(const struct client *c, const char *path, void (*print)(json_t *, int))
{
    json_t *j = call(c, "GET", path, NULL, NULL);
    if (!j)
        return 1;
    if (c->json)
        return print_json(j);
    print(j, 1);
    json_decref(j);
    return 0;
}

static int post(const struct client *c, const char *path, json_t *body, void (*print)(json_t *, int))
{
    char *text = json_dumps(body, 0);
    json_decref(body);
    json_t *j = text ? call(c, "POST", path, NULL, text) : NULL;
    free(text);
    if (!j)
        return 1;
    if (c->json || !print)
        return print_json(j);
    print(j, 1);
    json_decref(j);
    return 0;
}

static void print_release(json_t *r, int long_form)
{
    printf("%-4lld %-12s %-12s code %-10lld seq %-5lld sec %-3lld %8lld bytes  %.16s...\n",
           num(r, "id"), str(r, "product"), str(r, "version"), num(r, "version_code"),
           num(r, "sequence"), num(r, "security_counter"), num(r, "size"), str(r, "sha256"));
    if (long_form && json_is_string(json_object_get(r, "manifest")))
        printf("\n%s", str(r, "manifest"));
}

static void print_group(json_t *g, int long_form)
{
    (void)long_form;
    printf("%-24s %lld devices\n", str(g, "name"), num(g, "devices"));
}

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static int has(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

static int devices(const struct client *c, int argc, char **argv)
{
    const char *verb = argc ? argv[0] : "list";
    char path[256];
    if (!strcmp(verb, "list")) {
        const char *p = opt(argc, argv, "--product");
        snprintf(path, sizeof path, "devices%s%s", p ? "?product=" : "", p ? p : "");
        return list(c, path, "devices", print_device,
                    c->json ? NULL
                            : "ID                   PRODUCT      CHANNEL  VERSION     LAST "
                              "OUTCOME                       LAST SEEN");
    }
    if (argc < 2 || !fleet_valid_id(argv[1])) {
        fprintf(stderr, "fota fleet: devices %s needs a device id\n", verb);
        return 2;
    }
    snprintf(path, sizeof path, "devices/%s", argv[1]);
    if (!strcmp(verb, "show"))
        return show(c, path, print_device);
    if (!strcmp(verb, "set")) {
        json_t *b = json_object();
        const char *ch = opt(argc, argv, "--channel"), *pin = opt(argc, argv, "--pin");
        if (ch)
            json_object_set_new(b, "channel", json_string(ch));
        if (pin)
            json_object_set_new(b, "pin", json_integer(strtoll(pin, NULL, 10)));
        if (has(argc, argv, "--unpin"))
            json_object_set_new(b, "pin", json_null());
        return post(c, path, b, print_device);
    }
    fprintf(stderr, "fota fleet: devices: unknown verb '%s' (list, show, set)\n", verb);
    return 2;
}

static int groups(const struct client *c, int argc, char **argv)
{
    const char *verb = argc ? argv[0] : "list";
    if (!strcmp(verb, "list"))
        return list(c, "groups", "groups", print_group, NULL);
    if ((strcmp(verb, "add") && strcmp(verb, "remove")) || argc < 3) {
        fprintf(stderr, "fota fleet: groups add|remove NAME DEVICE...\n");
        return 2;
    }
    json_t *ids = json_array();
    for (int i = 2; i < argc; i++)
        json_array_append_new(ids, json_string(argv[i]));
    char path[128];
    snprintf(path, sizeof path, "groups/%s", argv[1]);
    return post(c, path, json_pack("{s:o}", verb, ids), NULL);
}

static int releases(const struct client *c, int argc, char **argv)
{
    const char *verb = argc ? argv[0] : "list";
    if (!strcmp(verb, "list"))
        return list(c, "releases", "releases", print_release, NULL);
    if (argc < 2) {
        fprintf(stderr, "fota fleet: releases %s needs an argument\n", verb);
        return 2;
    }
    if (!strcmp(verb, "show")) {
        char path[64];
        snprintf(path, sizeof path, "releases/%s", argv[1]);
        return show(c, path, print_release);
    }
    if (!strcmp(verb, "add")) {
        size_t len;
        char *text = (char *)util_read_file(argv[1], &len);
        if (!text)
            return 1;
        json_t *j = call(c, "POST", "releases", "text/plain", text);
        free(text);
        if (!j)
            return 1;
        if (c->json)
            return print_json(j);
        printf("release %lld: %s %s (version code %lld, sequence %lld)\n", num(j, "id"),
               str(j, "product"), str(j, "version"), num(j, "version_code"), num(j, "sequence"));
        json_decref(j);
        return 0;
    }
    fprintf(stderr, "fota fleet: releases: unknown verb '%s' (list, show, add)\n", verb);
    return 2;
}

static int number_opt(json_t *b, int argc, char **argv, const char *name, const char *key)
{
    const char *v = opt(argc, argv, name);
    uint32_t n;
    if (!v)
        return 0;
    if (util_parse_u32(v, &n) < 0) {
        fprintf(stderr, "fota fleet: %s '%s' is not a whole number\n", name, v);
        return -1;
    }
    json_object_set_new(b, key, json_integer(n));
    return 0;
}

static int rollouts(const struct client *c, int argc, char **argv)
{
    const char *verb = argc ? argv[0] : "list";
    char path[128];
    if (!strcmp(verb, "list"))
        return list(c, "rollouts", "rollouts", print_rollout, NULL);
    if (!strcmp(verb, "create")) {
        const char *rel = opt(argc, argv, "--release");
        if (!rel) {
            fprintf(stderr, "fota fleet: rollouts create needs --release ID\n");
            return 2;
        }
        json_t *b = json_pack("{s:I}", "release", (json_int_t)strtoll(rel, NULL, 10));
        const char *waves = opt(argc, argv, "--waves");
        if (waves) {
            json_t *list = json_array();
            char copy[256];
            snprintf(copy, sizeof copy, "%s", waves);
            for (char *save = NULL, *w = strtok_r(copy, ",", &save); w;
                 w = strtok_r(NULL, ",", &save))
                json_array_append_new(list, json_string(w));
            json_object_set_new(b, "waves", list);
        }
        const char *ch = opt(argc, argv, "--channel"), *gr = opt(argc, argv, "--groups");
        if (ch)
            json_object_set_new(b, "channel", json_string(ch));
        if (gr)
            json_object_set_new(b, "groups", json_string(gr));
        if (number_opt(b, argc, argv, "--success", "success") < 0 ||
            number_opt(b, argc, argv, "--failure", "failure") < 0 ||
            number_opt(b, argc, argv, "--min-sample", "min_sample") < 0 ||
            number_opt(b, argc, argv, "--per-minute", "per_minute") < 0) {
            json_decref(b);
            return 2;
        }
        return post(c, "rollouts", b, print_rollout);
    }
    if (argc < 2) {
        fprintf(stderr, "fota fleet: rollouts %s needs a rollout id\n", verb);
        return 2;
    }
    if (!strcmp(verb, "show")) {
        snprintf(path, sizeof path, "rollouts/%s", argv[1]);
        return show(c, path, print_rollout);
    }
    if (!strcmp(verb, "pause") || !strcmp(verb, "resume") || !strcmp(verb, "abort")) {
        snprintf(path, sizeof path, "rollouts/%s/%s", argv[1], verb);
        json_t *b = json_object();
        const char *why = opt(argc, argv, "--reason");
        if (why)
            json_object_set_new(b, "reason", json_string(why));
        return post(c, path, b, print_rollout);
    }
    if (!strcmp(verb, "rollback")) {
        snprintf(path, sizeof path, "rollouts/%s/rollback-plan", argv[1]);
        json_t *j = call(c, "GET", path, NULL, NULL);
        if (!j)
            return 1;
        if (c->json)
            return print_json(j);
        json_t *bad = json_object_get(j, "bad_release"), *good = json_object_get(j, "good_release");
        printf("Devices never go back to a lower version, sequence or security counter, so a\n"
               "rollback is a new release of the last good firmware (%s, release %lld),\n"
               "rebuilt with a version above %s and signed offline:\n\n",
               str(good, "version"), num(good, "id"), str(bad, "version"));
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(j, "steps"), i, s) printf("  %zu. %s\n", i + 1,
                                                                     json_string_value(s));
        printf("\n  %s\n", str(j, "release_command"));
        json_decref(j);
        return 0;
    }
    fprintf(stderr, "fota fleet: rollouts: unknown verb '%s'\n", verb);
    return 2;
}

static int token(int argc, char **argv)
{
    const char *db = opt(argc, argv, "--db"), *name = opt(argc, argv, "--name");
    if (argc < 1 || strcmp(argv[0], "add") || !db) {
        fprintf(stderr, "usage: fota fleet token add --db DB [--name NAME]\n");
        return 2;
    }
    char err[512], tok[70];
    struct fleet *f = fleet_open(db, err, sizeof err);
    if (!f) {
        fprintf(stderr, "fota fleet: %s\n", err);
        return 1;
    }
    int r = fleet_token_create(f, name ? name : "admin", tok, err, sizeof err);
    fleet_close(f);
    if (r < 0) {
        fprintf(stderr, "fota fleet: %s\n", err);
        return 1;
    }
    printf("%s\n", tok);
    return 0;
}

int cmd_fleet(int argc, char **argv)
{
    struct client c = {getenv("FOTA_FLEET_URL"), "", 0};
    const char *t = getenv("FOTA_FLEET_TOKEN");
    if (t)
        snprintf(c.token, sizeof c.token, "%s", t);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--json")) {
            c.json = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (i + 1 < argc && !strcmp(argv[i], "--server")) {
            c.server = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--token")) {
            snprintf(c.token, sizeof c.token, "%s", argv[++i]);
        } else if (i + 1 < argc && !strcmp(argv[i], "--token-file")) {
            size_t len;
            char *f = (char *)util_read_file(argv[++i], &len);
            if (!f)
                return 2;
            f[strcspn(f, "\r\n")] = 0;
            snprintf(c.token, sizeof c.token, "%s", f);
            free(f);
        } else {
            fprintf(stderr, "fota fleet: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!c.server)
        c.server = "http://127.0.0.1:8081";
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *noun = argv[i];
    int n = argc - i - 1;
    char **rest = argv + i + 1;
    if (!strcmp(noun, "sim"))
        return fleet_sim_main(n + 1, argv + i);
    if (!strcmp(noun, "token"))
        return token(n, rest);
    if (!c.token[0]) {
        fprintf(stderr, "fota fleet: no admin token: --token, --token-file or $FOTA_FLEET_TOKEN "
                        "(create one with fota fleet token add --db DB)\n");
        return 2;
    }
    if (!strcmp(noun, "devices"))
        return devices(&c, n, rest);
    if (!strcmp(noun, "groups"))
        return groups(&c, n, rest);
    if (!strcmp(noun, "releases"))
        return releases(&c, n, rest);
    if (!strcmp(noun, "rollouts"))
        return rollouts(&c, n, rest);
    fprintf(stderr, "fota fleet: unknown noun '%s'\n", noun);
    usage(stderr);
    return 2;
}
