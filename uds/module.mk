# uds/: ISO-TP, UDS codec, client, programming sequence, server.
UDS_SRCS :=
