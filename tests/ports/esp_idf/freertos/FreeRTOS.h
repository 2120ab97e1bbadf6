/* Fake ESP-IDF for host tests: the FreeRTOS tick type and conversion, as in
 * ESP-IDF v5.5.1 (portmacro.h: 32-bit ticks; projdefs.h: pdMS_TO_TICKS
 * multiplies in TickType_t). configTICK_RATE_HZ is the test's choice
 * (CONFIG_FREERTOS_HZ: 100 by default in ESP-IDF, up to 1000). */
#ifndef FAKE_FREERTOS_H
#define FAKE_FREERTOS_H
#include <stdint.h>
typedef uint32_t TickType_t;
extern TickType_t fake_tick_rate_hz;
#define configTICK_RATE_HZ fake_tick_rate_hz
#define pdMS_TO_TICKS(xTimeInMs)                                                           \
    ((TickType_t)(((TickType_t)(xTimeInMs) * (TickType_t)configTICK_RATE_HZ) / (TickType_t)1000U))
#endif
