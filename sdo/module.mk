# sdo/: CiA 301 SDO codec, object dictionary, client, server.
SDO_SRCS := sdo/codec.c sdo/od.c sdo/server.c sdo/client.c sdo/fota_od.c sdo/nmt.c
SDO_SRCS += sdo/scan.c
FUZZ_TARGETS += sdo
