# cmd/: the command layer (option parser, completion, shared plumbing).
CMD_LIB_SRCS := cmd/opt.c cmd/common.c cmd/complete.c
CMD_LIB_SRCS += cmd/isotp_kernel.c
CMD_LIB_SRCS += cmd/serve_files.c cmd/serve_tcu.c cmd/serve_inbox.c
CMD_LIB_SRCS += cmd/sdo_common.c

# cmd/serve.c lists its own two options positionally, five fields of struct
# fota_opt, which has grown the place of the value (cmd/cmd.h). Until its table
# uses FOTA_OPT_STRING/FOTA_OPT_FLAG like the other commands, GCC must not
# count that as a missing initializer; remove this line then.
$(O)/cmd/serve.o: FOTA_CFLAGS += -Wno-missing-field-initializers
