# cmd/: the command layer (option parser, completion, shared plumbing).
CMD_LIB_SRCS := cmd/opt.c cmd/common.c cmd/complete.c
CMD_LIB_SRCS += cmd/isotp_kernel.c
CMD_LIB_SRCS += cmd/serve_files.c cmd/serve_tcu.c cmd/serve_inbox.c cmd/serve_mqtt.c
CMD_LIB_SRCS += cmd/sdo_common.c cmd/mqtt_client.c

