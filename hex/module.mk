# hex/: Intel HEX loader and image helpers.
HEX_SRCS :=
FUZZ_TARGETS +=
