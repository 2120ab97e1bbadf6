/*
 * Not linked into anything: compiled for each target so that the size
 * report can read the sizes of the agent's structures as laid out by the
 * target compiler (`nm -S` on the array symbols below).
 */
#include "fota/fota.h"

char fota_probe_struct_fota[sizeof(struct fota)];
char fota_probe_struct_fota_config[sizeof(struct fota_config)];
char fota_probe_struct_fota_http_parser[sizeof(struct fota_http_parser)];
char fota_probe_struct_fota_manifest[sizeof(struct fota_manifest)];
char fota_probe_struct_fota_persist[sizeof(struct fota_persist)];
char fota_probe_struct_fota_record_store[sizeof(struct fota_record_store)];
char fota_probe_struct_fota_sha256[sizeof(struct fota_sha256)];
