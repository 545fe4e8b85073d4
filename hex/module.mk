# hex/: Intel HEX loader and image helpers.
HEX_SRCS := hex/ihex.c hex/image.c
FUZZ_TARGETS += ihex
