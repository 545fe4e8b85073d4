/* SPDX-License-Identifier: MIT */
/*
 * bench/fw: the one zlib function the protocol code calls (crc32), for the
 * corpus firmware built with arm-none-eabi-gcc, where Debian has no zlib.
 */
#ifndef FOTA_BENCH_FW_ZLIB_H
#define FOTA_BENCH_FW_ZLIB_H
typedef unsigned long uLong;
typedef unsigned int uInt;
typedef unsigned char Bytef;
uLong crc32(uLong crc, const Bytef *buf, uInt len);
#endif
