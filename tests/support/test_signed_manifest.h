/*
 * The signed manifest and the public key that tests/unit/test_manifest.c
 * checks byte for byte (made once with `fota keygen` and `fota release`;
 * OpenSSL verifies the same signature, see there), for the tests that need
 * a real signed manifest without a signer (tests/target/test_esp8266_stack.c).
 */
#ifndef FOTA_TEST_SIGNED_MANIFEST_H
#define FOTA_TEST_SIGNED_MANIFEST_H

/* Initializer of a uint8_t[FOTA_P256_PUBKEY_SIZE]. */
#define FOTA_TEST_PUBKEY                                                                       \
    {                                                                                          \
    0x04, 0xf6, 0xac, 0x5b, 0xe8, 0xcf, 0xc9, 0xfc, 0x18, 0xbd, 0x5e, 0x4f, 0xcf,              \
    0xb9, 0xd7, 0x77, 0xef, 0x3c, 0x80, 0xdb, 0x88, 0xb1, 0xc6, 0x2b, 0x35, 0xfa,              \
    0xfe, 0xc2, 0xcd, 0x6c, 0xa6, 0x1c, 0xa6, 0x0e, 0xb0, 0xee, 0xfa, 0x25, 0xe7,              \
    0x2d, 0xac, 0xe8, 0x7a, 0x5c, 0x92, 0x9c, 0xbc, 0xdc, 0xcd, 0x99, 0xac, 0x4a,              \
    0xe7, 0xd1, 0x0e, 0xa4, 0xb6, 0x07, 0xe5, 0x77, 0xa5, 0x26, 0x6e, 0x10, 0x80               \
    }

#define FOTA_TEST_SIGNATURE_HEX                                                                \
    "3c270ca2e2083a23347f10b3cfd94da33ceda600537cb3574979fe2f8c7039bcdb23dd214e4a48b9567e4267" \
    "b9cb5fe772bf70780ea2c2434b9fa5bf4d1f80ef"

/* Its text: 450 bytes, the last line the signature. */
#define FOTA_TEST_SIGNED_MANIFEST \
    "fota-manifest: 1\n" \
    "product: demo-board\n" \
    "chip: esp32\n" \
    "version: 1.2.0\n" \
    "version-code: 1002000\n" \
    "security-counter: 2\n" \
    "sequence: 7\n" \
    "size: 4096\n" \
    "sha256: b4d5e075f63a1c7a8d6d1e0d43790fe872f98fc7d56fb7cea969a9078db72633\n" \
    "url: firmware/demo-board-1.2.0.bin\n" \
    "project: demo-app\n" \
    "expires: 2030-06-30T12:00:00Z\n" \
    "key-id: 03fca3c847ec7807\n" \
    "signature: " FOTA_TEST_SIGNATURE_HEX "\n"

#endif
