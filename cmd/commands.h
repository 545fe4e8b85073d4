/*
 * THE command list: one FOTA_CMD(name) line per command, sorted by name. The
 * Makefile reads it with sed (symlinks, man pages, sources); cmd/opt.c expands
 * it into the dispatch table. See cmd/cmd.h and DESIGN.md D3.
 */
FOTA_CMD(approve)
FOTA_CMD(ecu)
FOTA_CMD(flash)
FOTA_CMD(fleet)
FOTA_CMD(health)
FOTA_CMD(hexinfo)
FOTA_CMD(info)
FOTA_CMD(keygen)
FOTA_CMD(publish)
FOTA_CMD(reject)
FOTA_CMD(request)
FOTA_CMD(scan)
FOTA_CMD(serve)
FOTA_CMD(sign)
FOTA_CMD(status)
