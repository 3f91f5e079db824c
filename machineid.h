/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_MACHINEID_H
#define OSH_MACHINEID_H

#include "util.h"

#define MACHINE_ID_LEN 32

/* Accepts 32 hex digits or a 36-character 8-4-4-4-12 UUID, any case;
 * writes 32 lowercase hex digits + NUL.  Refuses all zeros (systemd treats
 * that as "no id").  Returns false when the value is not acceptable. */
bool machine_id_normalise(const char *in, char ret[MACHINE_ID_LEN + 1]);

/* Deterministic id from the container id: the first 32 hex digits when the
 * id starts with them (runc/podman/containerd ids are 64 hex digits, and
 * podman derives container_uuid the same way), else SHA-256 of the id. */
void machine_id_from_container_id(const char *id, char ret[MACHINE_ID_LEN + 1]);

void sha256(const void *data, size_t len, unsigned char out[32]);

/* A random (version 4) UUID from 16 random bytes, "8-4-4-4-12\n", as the
 * kernel's /proc/sys/kernel/random/uuid reads. */
#define UUID_LINE_LEN 37
void uuid_v4_line(const unsigned char bytes[16], char ret[UUID_LINE_LEN + 1]);

#endif
