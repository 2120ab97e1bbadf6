/* Fake ESP-IDF for host tests: vTaskDelay adds up the ticks slept. */
#ifndef FAKE_FREERTOS_TASK_H
#define FAKE_FREERTOS_TASK_H
#include "freertos/FreeRTOS.h"
void vTaskDelay(const TickType_t xTicksToDelay);
extern uint64_t fake_ticks_slept;
#endif
