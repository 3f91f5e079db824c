/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_LOG_H
#define OSH_LOG_H

#include "util.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Every line: "oci-systemd-hook: <id12>: message", to stderr (the runtime
 * shows it) and to syslog (some runtimes drop hook stderr).  Debug lines
 * only with --debug, and only to stderr. */
void log_set_id(const char *id);
void log_set_debug(bool on);
/* Warnings and errors also to /dev/kmsg (the hook itself: runtimes drop a
 * successful hook's stderr). */
void log_set_kmsg(bool on);
/* Copies IN to OUT (SIZE bytes, always terminated) with control
 * characters, C1 controls, bidi overrides and invalid UTF-8 escaped as
 * \xNN / \uNNNN; truncates on a character boundary.  Returns the length. */
size_t log_escape(const char *in, char *out, size_t size);
void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
