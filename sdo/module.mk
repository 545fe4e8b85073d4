# sdo/: CiA 301 SDO codec, object dictionary, client, server.
SDO_SRCS :=
