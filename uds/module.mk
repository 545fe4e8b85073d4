# uds/: ISO-TP, UDS codec, client, programming sequence, server.
UDS_SRCS := uds/isotp.c
FUZZ_TARGETS += isotp
