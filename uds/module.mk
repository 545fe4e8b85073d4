# uds/: ISO-TP, UDS codec, client, programming sequence, server.
UDS_SRCS := uds/isotp.c
FUZZ_TARGETS += isotp
UDS_SRCS += uds/key.c
UDS_SRCS += uds/codec.c uds/client.c uds/prog.c uds/server.c uds/rdbi.c
FUZZ_TARGETS += uds_server
UDS_SRCS += uds/job.c uds/ecu.c uds/read.c
UDS_SRCS += uds/scan.c
