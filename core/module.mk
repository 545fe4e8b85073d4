# core/: errors, logging, time, frames, the bus and its backends, config, the loop.
CORE_SRCS := core/err.c core/log.c core/time.c core/file.c core/hexstr.c core/frame.c core/bus.c core/bus_socketcan.c core/bus_unix.c core/canif.c core/loop.c
CORE_SRCS += core/notify.c
CORE_SRCS += core/config.c core/request.c core/sig.c
FUZZ_TARGETS += config
FUZZ_TARGETS += frame
FUZZ_TARGETS += sigreq
CORE_SRCS += core/update.c
CORE_SRCS += core/worker.c
CORE_SRCS += core/download.c
CORE_SRCS += core/mqtt.c
FUZZ_TARGETS += mqtt_topic
CORE_SRCS += core/compress.c
FUZZ_TARGETS += decompress
