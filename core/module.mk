# core/: errors, logging, time, frames, the bus and its backends, config, the loop.
CORE_SRCS := core/err.c core/log.c core/time.c
