/* A fake of ESP-IDF's partition and OTA API (see fake_esp_idf.h). The
 * functions follow ESP-IDF v5.5.1's esp_ota_ops.c and bootloader sources; the
 * comments name the original where the behaviour is subtle. */
#include "fake_esp_idf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esp_log.h"
#include "esp_image_format.h"
#include "fota/record.h"

#define SECTOR 4096u
#define OTADATA_ADDR 0x9000u
#define STATE_ADDR 0xb000u
#define APPS_ADDR 0x10000u
#define STORAGE_ADDR (APPS_ADDR + 3 * FAKE_SLOT_SIZE) /* a data partition "storage" */
#define STORAGE_SIZE 0x10000u
#define FLASH_SIZE (STORAGE_ADDR + STORAGE_SIZE)
#define MAX_PARTS 6

/* esp_flash_partitions.h */
typedef struct {
    uint32_t ota_seq;
    uint8_t seq_label[20];
    uint32_t ota_state;
    uint32_t crc;
} esp_ota_select_entry_t;

static uint8_t flash[FLASH_SIZE];
static esp_partition_t parts[MAX_PARTS];
static int n_parts;
static int erases[MAX_PARTS];
static const esp_partition_t *running;
static struct fake_esp_idf_config cfg;
static int restarts;
static char log_text[8192];
static size_t log_len;

/* ---- log, names ------------------------------------------------------------ */

void fake_esp_log(char level, const char *tag, const char *fmt, ...)
{
    if (log_len + 1 >= sizeof log_text)
        return;
    int n = snprintf(log_text + log_len, sizeof log_text - log_len, "%c %s: ", level, tag);
    if (n > 0 && (size_t)n < sizeof log_text - log_len)
        log_len += (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(log_text + log_len, sizeof log_text - log_len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof log_text - log_len)
        log_len += (size_t)n;
    if (log_len + 1 < sizeof log_text)
        log_text[log_len++] = '\n';
    log_text[log_len] = '\0';
}

const char *esp_err_to_name(esp_err_t code)
{
    switch (code) {
    case ESP_OK: return "ESP_OK";
    case ESP_FAIL: return "ESP_FAIL";
    case ESP_ERR_INVALID_ARG: return "ESP_ERR_INVALID_ARG";
    case ESP_ERR_INVALID_SIZE: return "ESP_ERR_INVALID_SIZE";
    case ESP_ERR_NOT_FOUND: return "ESP_ERR_NOT_FOUND";
    case ESP_ERR_NOT_SUPPORTED: return "ESP_ERR_NOT_SUPPORTED";
    case ESP_ERR_OTA_VALIDATE_FAILED: return "ESP_ERR_OTA_VALIDATE_FAILED";
    case ESP_ERR_OTA_SMALL_SEC_VER: return "ESP_ERR_OTA_SMALL_SEC_VER";
    case ESP_ERR_OTA_ROLLBACK_FAILED: return "ESP_ERR_OTA_ROLLBACK_FAILED";
    default: return "ESP_ERR_(other)";
    }
}

void esp_restart(void);
void esp_restart(void)
{
    restarts++; /* the real one does not return; the tests power on again */
}

/* ---- partitions -------------------------------------------------------------- */

static void add_part(esp_partition_type_t type, esp_partition_subtype_t subtype, uint32_t addr,
                     uint32_t size, const char *label)
{
    esp_partition_t *p = &parts[n_parts++];
    memset(p, 0, sizeof *p);
    p->type = type;
    p->subtype = subtype;
    p->address = addr;
    p->size = size;
    p->erase_size = SECTOR;
    snprintf(p->label, sizeof p->label, "%s", label);
}

void fake_esp_idf_reset(const struct fake_esp_idf_config *c)
{
    cfg = *c;
    memset(flash, 0xFF, sizeof flash);
    memset(erases, 0, sizeof erases);
    n_parts = 0;
    running = NULL;
    restarts = 0;
    log_len = 0;
    log_text[0] = '\0';
    add_part(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_OTA, OTADATA_ADDR, 2 * SECTOR,
             "otadata");
    add_part(ESP_PARTITION_TYPE_DATA, (esp_partition_subtype_t)0x40, STATE_ADDR, 2 * SECTOR,
             "fota_state");
    uint32_t at = APPS_ADDR;
    if (c->factory) {
        add_part(ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_APP_FACTORY, at, FAKE_SLOT_SIZE,
                 "factory");
        at += FAKE_SLOT_SIZE;
    }
    add_part(ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_APP_OTA_0, at, FAKE_SLOT_SIZE, "ota_0");
    add_part(ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_APP_OTA_1, at + FAKE_SLOT_SIZE,
             FAKE_SLOT_SIZE, "ota_1");
    add_part(ESP_PARTITION_TYPE_DATA, (esp_partition_subtype_t)0x83, STORAGE_ADDR, STORAGE_SIZE,
             "storage"); /* littlefs */
}

struct fake_esp_idf_config *fake_esp_idf_config(void)
{
    return &cfg;
}

const esp_partition_t *fake_esp_idf_partition(const char *label)
{
    for (int i = 0; i < n_parts; i++)
        if (strcmp(parts[i].label, label) == 0)
            return &parts[i];
    return NULL;
}

const esp_partition_t *esp_partition_find_first(esp_partition_type_t type,
                                                esp_partition_subtype_t subtype,
                                                const char *label)
{
    for (int i = 0; i < n_parts; i++)
        if (parts[i].type == type &&
            (subtype == ESP_PARTITION_SUBTYPE_ANY || parts[i].subtype == subtype) &&
            (label == NULL || strcmp(parts[i].label, label) == 0))
            return &parts[i];
    return NULL;
}

static esp_err_t check_range(const esp_partition_t *p, size_t off, size_t size)
{
    if (!p)
        return ESP_ERR_INVALID_ARG;
    if (off > p->size || size > p->size - off)
        return ESP_ERR_INVALID_SIZE;
    return ESP_OK;
}

esp_err_t esp_partition_read(const esp_partition_t *p, size_t off, void *dst, size_t size)
{
    esp_err_t e = check_range(p, off, size);
    if (e == ESP_OK)
        memcpy(dst, flash + p->address + off, size);
    return e;
}

esp_err_t esp_partition_write(const esp_partition_t *p, size_t off, const void *src, size_t size)
{
    esp_err_t e = check_range(p, off, size);
    if (e != ESP_OK)
        return e;
    const uint8_t *s = src;
    for (size_t i = 0; i < size; i++)
        flash[p->address + off + i] &= s[i]; /* NOR: programming only clears bits */
    return ESP_OK;
}

esp_err_t esp_partition_erase_range(const esp_partition_t *p, size_t off, size_t size)
{
    esp_err_t e = check_range(p, off, size);
    if (e != ESP_OK)
        return e;
    if (off % SECTOR || size % SECTOR)
        return ESP_ERR_INVALID_ARG;
    memset(flash + p->address + off, 0xFF, size);
    erases[p - parts]++;
    return ESP_OK;
}

void fake_esp_idf_program(const char *label, const void *data, size_t len)
{
    const esp_partition_t *p = fake_esp_idf_partition(label);
    if (p && len <= p->size)
        memcpy(flash + p->address, data, len);
}

int fake_esp_idf_erases(const char *label)
{
    const esp_partition_t *p = fake_esp_idf_partition(label);
    return p ? erases[p - parts] : 0;
}

int fake_esp_idf_restarts(void)
{
    return restarts;
}

const char *fake_esp_idf_log(void)
{
    return log_text;
}

/* ---- otadata (bootloader_common_loader.c) -------------------------------------- */

static uint32_t select_crc(const esp_ota_select_entry_t *s)
{
    /* esp_rom_crc32_le is the same reflected CRC-32 (0xEDB88320) as fota's */
    return fota_crc32(UINT32_MAX, &s->ota_seq, 4);
}

static int select_invalid(const esp_ota_select_entry_t *s)
{
    return s->ota_seq == UINT32_MAX || s->ota_state == ESP_OTA_IMG_INVALID ||
           s->ota_state == ESP_OTA_IMG_ABORTED;
}

static int select_valid(const esp_ota_select_entry_t *s)
{
    return !select_invalid(s) && s->crc == select_crc(s);
}

static int select_otadata(const esp_ota_select_entry_t *two, const int *valid, int max)
{
    if (valid[0] && valid[1]) {
        uint32_t c = max ? (two[0].ota_seq > two[1].ota_seq ? two[0].ota_seq : two[1].ota_seq)
                         : (two[0].ota_seq < two[1].ota_seq ? two[0].ota_seq : two[1].ota_seq);
        return c == two[0].ota_seq ? 0 : 1;
    }
    if (valid[0])
        return 0;
    if (valid[1])
        return 1;
    return -1;
}

static int active_otadata(const esp_ota_select_entry_t *two)
{
    int valid[2] = {select_valid(&two[0]), select_valid(&two[1])};
    return select_otadata(two, valid, 1);
}

static const esp_partition_t *read_otadata(esp_ota_select_entry_t *two)
{
    const esp_partition_t *p = fake_esp_idf_partition("otadata");
    memcpy(&two[0], flash + p->address, sizeof two[0]);
    memcpy(&two[1], flash + p->address + p->erase_size, sizeof two[1]);
    return p;
}

static esp_err_t rewrite_ota_seq(esp_ota_select_entry_t *two, uint32_t seq, int sec,
                                 const esp_partition_t *otadata)
{
    two[sec].ota_seq = seq;
    two[sec].crc = select_crc(&two[sec]);
    esp_err_t e = esp_partition_erase_range(otadata, (size_t)sec * otadata->erase_size,
                                            otadata->erase_size);
    if (e != ESP_OK)
        return e;
    return esp_partition_write(otadata, (size_t)sec * otadata->erase_size, &two[sec],
                               sizeof two[sec]);
}

void fake_esp_idf_otadata(int i, uint32_t *seq, uint32_t *state, int *crc_ok)
{
    esp_ota_select_entry_t two[2];
    read_otadata(two);
    *seq = two[i].ota_seq;
    *state = two[i].ota_state;
    *crc_ok = two[i].crc == select_crc(&two[i]);
}

/* ---- esp_ota_ops.c ------------------------------------------------------------ */

static int is_ota_partition(const esp_partition_t *p)
{
    return p && p->type == ESP_PARTITION_TYPE_APP &&
           p->subtype >= ESP_PARTITION_SUBTYPE_APP_OTA_0 &&
           p->subtype < ESP_PARTITION_SUBTYPE_APP_OTA_MAX;
}

static int ota_app_count(void)
{
    int n = 0;
    while (esp_partition_find_first(ESP_PARTITION_TYPE_APP,
                                    (esp_partition_subtype_t)(ESP_PARTITION_SUBTYPE_APP_OTA_MIN + n),
                                    NULL))
        n++;
    return n;
}

static const esp_partition_t *ota_slot(int i)
{
    return esp_partition_find_first(
        ESP_PARTITION_TYPE_APP, (esp_partition_subtype_t)(ESP_PARTITION_SUBTYPE_APP_OTA_MIN + i),
        NULL);
}

/* esp_image_verify, as far as the fake models it: the magic byte, then what
 * the test configured (Secure Boot signature, chip revision). */
static esp_err_t image_verify(const esp_partition_t *p)
{
    if (flash[p->address] != 0xE9)
        return ESP_FAIL;
    return cfg.verify_result;
}

/* esp_app_desc_t.secure_version: after the image header (24 bytes) and the
 * first segment header (8), behind the magic word 0xABCD5432. */
static esp_err_t app_secure_version(const esp_partition_t *p, uint32_t *v)
{
    const uint8_t *d = flash + p->address + 32;
    uint32_t magic = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
                     (uint32_t)d[3] << 24;
    if (magic != 0xABCD5432u)
        return ESP_ERR_NOT_FOUND;
    *v = (uint32_t)d[4] | (uint32_t)d[5] << 8 | (uint32_t)d[6] << 16 | (uint32_t)d[7] << 24;
    return ESP_OK;
}

const esp_partition_t *esp_ota_get_running_partition(void)
{
    return running;
}

static const esp_partition_t *default_boot_partition(void)
{
    const esp_partition_t *f =
        esp_partition_find_first(ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_APP_FACTORY, NULL);
    return f ? f : ota_slot(0);
}

const esp_partition_t *esp_ota_get_boot_partition(void)
{
    esp_ota_select_entry_t two[2];
    read_otadata(two);
    int n = ota_app_count();
    if ((select_invalid(&two[0]) && select_invalid(&two[1])) || n == 0)
        return default_boot_partition();
    int a = active_otadata(two);
    if (a < 0)
        return default_boot_partition();
    return ota_slot((int)((two[a].ota_seq - 1) % (uint32_t)n));
}

const esp_partition_t *esp_ota_get_next_update_partition(const esp_partition_t *start_from)
{
    const esp_partition_t *def = NULL;
    int next_is_result = 0;
    if (start_from == NULL)
        start_from = running;
    for (int i = 0; i < ota_app_count(); i++) {
        const esp_partition_t *p = ota_slot(i);
        if (!def)
            def = p;
        if (p == start_from)
            next_is_result = 1;
        else if (next_is_result)
            return p;
    }
    return def;
}

esp_err_t esp_ota_get_state_partition(const esp_partition_t *partition,
                                      esp_ota_img_states_t *ota_state)
{
    if (!partition || !ota_state)
        return ESP_ERR_INVALID_ARG;
    if (!is_ota_partition(partition))
        return ESP_ERR_NOT_SUPPORTED;
    esp_ota_select_entry_t two[2];
    int n = ota_app_count();
    read_otadata(two);
    if (n == 0)
        return ESP_ERR_NOT_FOUND;
    int req = partition->subtype - ESP_PARTITION_SUBTYPE_APP_OTA_MIN;
    for (int i = 0; i < 2; i++) {
        int slot = (int)((two[i].ota_seq - 1) % (uint32_t)n);
        if (slot == req && two[i].crc == select_crc(&two[i])) {
            *ota_state = (esp_ota_img_states_t)two[i].ota_state;
            return ESP_OK;
        }
    }
    return ESP_ERR_NOT_FOUND;
}

static esp_err_t rewrite_ota_data(esp_partition_subtype_t subtype)
{
    esp_ota_select_entry_t two[2];
    const esp_partition_t *otadata = read_otadata(two);
    uint32_t n = (uint32_t)ota_app_count();
    uint32_t id = (uint32_t)(subtype - ESP_PARTITION_SUBTYPE_APP_OTA_MIN);
    if (id >= n)
        return ESP_ERR_INVALID_ARG;
    uint32_t new_state = cfg.app_rollback ? ESP_OTA_IMG_NEW : ESP_OTA_IMG_UNDEFINED;
    int a = active_otadata(two);
    if (a != -1) {
        uint32_t seq = two[a].ota_seq, i = 0;
        while (seq > (id + 1) % n + i * n)
            i++;
        int next = (~a) & 1;
        two[next].ota_state = new_state;
        return rewrite_ota_seq(two, (id + 1) % n + i * n, next, otadata);
    }
    two[0].ota_state = new_state;
    return rewrite_ota_seq(two, id + 1, 0, otadata);
}

esp_err_t esp_ota_set_boot_partition(const esp_partition_t *partition)
{
    if (!partition)
        return ESP_ERR_INVALID_ARG;
    if (image_verify(partition) != ESP_OK)
        return ESP_ERR_OTA_VALIDATE_FAILED;
    if (partition->type != ESP_PARTITION_TYPE_APP)
        return ESP_ERR_INVALID_ARG;
    if (partition->subtype == ESP_PARTITION_SUBTYPE_APP_FACTORY) {
        const esp_partition_t *o = fake_esp_idf_partition("otadata");
        return esp_partition_erase_range(o, 0, o->size);
    }
    if (cfg.anti_rollback) {
        uint32_t v;
        esp_err_t e = app_secure_version(partition, &v);
        if (e != ESP_OK)
            return e;
        if (v < cfg.efuse_secure_version) {
            ESP_LOGE("esp_ota_ops", "This a new partition can not be booted due to a secure "
                                    "version is lower than stored in efuse. Partition will be "
                                    "erased.");
            e = esp_partition_erase_range(partition, 0, partition->size);
            if (e != ESP_OK)
                return e;
            return ESP_ERR_OTA_SMALL_SEC_VER;
        }
    }
    return rewrite_ota_data(partition->subtype);
}

static int rollback_is_possible(void)
{
    esp_ota_select_entry_t two[2];
    read_otadata(two);
    int n = ota_app_count();
    int valid[2] = {select_valid(&two[0]), select_valid(&two[1])};
    int a = select_otadata(two, valid, 1);
    if (n == 0 || a == -1)
        return 0;
    int last = (~a) & 1;
    if (!valid[last]) {
        const esp_partition_t *f = esp_partition_find_first(
            ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_APP_FACTORY, NULL);
        return f && image_verify(f) == ESP_OK;
    }
    const esp_partition_t *p = ota_slot((int)((two[last].ota_seq - 1) % (uint32_t)n));
    return p && image_verify(p) == ESP_OK;
}

static esp_err_t current_ota_is_workable(int valid)
{
    esp_ota_select_entry_t two[2];
    const esp_partition_t *otadata = read_otadata(two);
    int a = active_otadata(two);
    if (a != -1 && ota_app_count() != 0) {
        if (valid && two[a].ota_state != ESP_OTA_IMG_VALID) {
            two[a].ota_state = ESP_OTA_IMG_VALID;
            esp_err_t e = rewrite_ota_seq(two, two[a].ota_seq, a, otadata);
            if (e == ESP_OK && cfg.anti_rollback && running) {
                uint32_t v;
                if (app_secure_version(running, &v) == ESP_OK && v > cfg.efuse_secure_version)
                    cfg.efuse_secure_version = v;
            }
            return e;
        } else if (!valid) {
            if (!rollback_is_possible()) {
                ESP_LOGE("esp_ota_ops", "Rollback is not possible, do not have any suitable "
                                        "apps in slots");
                return ESP_ERR_OTA_ROLLBACK_FAILED;
            }
            two[a].ota_state = ESP_OTA_IMG_INVALID;
            return rewrite_ota_seq(two, two[a].ota_seq, a, otadata);
        }
        return ESP_OK;
    }
    ESP_LOGE("esp_ota_ops", "Running firmware is factory");
    return ESP_FAIL;
}

esp_err_t esp_ota_mark_app_valid_cancel_rollback(void)
{
    return current_ota_is_workable(1);
}

esp_err_t esp_ota_mark_app_invalid_rollback_and_reboot(void)
{
    esp_err_t e = current_ota_is_workable(0);
    if (e == ESP_OK)
        esp_restart();
    return e;
}

static esp_err_t erase_last_boot_app_partition(int skip_app_part_erase)
{
    esp_ota_select_entry_t two[2];
    const esp_partition_t *otadata = read_otadata(two);
    int a = active_otadata(two);
    int n = ota_app_count();
    if (a == -1 || n == 0)
        return ESP_FAIL;
    int inactive = (~a) & 1;
    if (two[inactive].ota_seq == UINT32_MAX || two[inactive].crc != select_crc(&two[inactive]))
        return ESP_FAIL;
    const esp_partition_t *last = ota_slot((int)((two[inactive].ota_seq - 1) % (uint32_t)n));
    if (!last || !running || last == running)
        return ESP_FAIL;
    if (!skip_app_part_erase) {
        esp_err_t e = esp_partition_erase_range(last, 0, last->size);
        if (e != ESP_OK)
            return e;
    }
    return esp_partition_erase_range(otadata, (size_t)inactive * otadata->erase_size,
                                     otadata->erase_size);
}

esp_err_t esp_ota_erase_last_boot_app_partition(void)
{
    return erase_last_boot_app_partition(0);
}

#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 5, 0)
esp_err_t esp_ota_mark_app_invalid_rollback(void)
{
    return current_ota_is_workable(0);
}

esp_err_t esp_ota_invalidate_inactive_ota_data_slot(void)
{
    return erase_last_boot_app_partition(1);
}
#endif

/* ---- The second-stage bootloader (bootloader_utility.c) ---------------------- */

const char *fake_esp_idf_power_on(void)
{
    esp_ota_select_entry_t two[2];
    const esp_partition_t *otadata = read_otadata(two);
    int n = ota_app_count();
    running = NULL;
    const esp_partition_t *pick = NULL;
    if (n > 0 && !(select_invalid(&two[0]) && select_invalid(&two[1]))) {
        int a = active_otadata(two);
        if (a != -1 && cfg.bootloader_rollback) {
            if (two[a].ota_state == ESP_OTA_IMG_PENDING_VERIFY) {
                /* booted once and never confirmed: abort it, take the other */
                two[a].ota_state = ESP_OTA_IMG_ABORTED;
                rewrite_ota_seq(two, two[a].ota_seq, a, otadata);
                a = active_otadata(two);
            } else if (two[a].ota_state == ESP_OTA_IMG_NEW) {
                two[a].ota_state = ESP_OTA_IMG_PENDING_VERIFY;
                rewrite_ota_seq(two, two[a].ota_seq, a, otadata);
            }
        }
        if (a != -1)
            pick = ota_slot((int)((two[a].ota_seq - 1) % (uint32_t)n));
    }
    if (!pick)
        pick = default_boot_partition();
    if (pick && image_verify(pick) == ESP_OK) {
        running = pick;
        return running->label;
    }
    /* the selected image does not load: try the others in table order */
    for (int i = 0; i < n_parts; i++)
        if (parts[i].type == ESP_PARTITION_TYPE_APP && image_verify(&parts[i]) == ESP_OK) {
            running = &parts[i];
            return running->label;
        }
    return NULL;
}

/* ---- esp_image_format.c ---------------------------------------------------------- */

esp_err_t esp_image_get_metadata(const esp_partition_pos_t *part, esp_image_metadata_t *meta)
{
    if (!part || !meta || part->offset + part->size > FLASH_SIZE || part->size < 24)
        return ESP_ERR_INVALID_ARG;
    const uint8_t *img = flash + part->offset;
    if (img[0] != 0xE9)
        return ESP_ERR_IMAGE_INVALID;
    uint32_t at = 24;
    for (int i = 0; i < img[1]; i++) {
        if (at + 8 > part->size)
            return ESP_ERR_IMAGE_INVALID;
        const uint8_t *h = img + at + 4;
        uint32_t len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
                       (uint32_t)h[3] << 24;
        if (len > part->size - at - 8)
            return ESP_ERR_IMAGE_INVALID;
        at += 8 + len;
    }
    at = (at + 1 + 15) / 16 * 16; /* the checksum byte, padded to 16 */
    if (img[23] == 1)
        at += 32; /* hash_appended */
    meta->start_addr = part->offset;
    meta->image_len = at;
    return ESP_OK;
}
