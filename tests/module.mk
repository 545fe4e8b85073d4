# tests/: support code linked into every unit test binary.
TEST_SUPPORT_SRCS := tests/unit/t.c tests/sim/sim.c tests/sim/bus_mem.c
