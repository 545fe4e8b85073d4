# hex/: Intel HEX loader and image helpers.
HEX_SRCS := hex/ihex.c hex/image.c hex/srec.c hex/load.c
FUZZ_TARGETS += ihex srec
