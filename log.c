/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static char log_id[16];
static bool log_debug_on;

void log_set_id(const char *id)
{
        size_t i;

        /* Twelve characters like `runc list`, printable only: the id came
         * from the runtime, but a message must stay one line. */
        for (i = 0; id && id[i] && i < 12; i++)
                log_id[i] = (id[i] >= 0x20 && id[i] < 0x7f) ? id[i] : '?';
        log_id[i] = '\0';
}

void log_set_debug(bool on)
{
        log_debug_on = on;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
        static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
        static const char *const tag[] = { "", "warning: ", "", "debug: " };
        char msg[1024], *p;
        va_list ap;

        if (level == LOG_LEVEL_DEBUG && !log_debug_on)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        for (p = msg; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';   /* one line, no terminal escapes */
        if (log_id[0])
                fprintf(stderr, "oci-systemd-hook: %s: %s%s\n", log_id, tag[level], msg);
        else
                fprintf(stderr, "oci-systemd-hook: %s%s\n", tag[level], msg);
        if (level == LOG_LEVEL_DEBUG)
                return;
        openlog("oci-systemd-hook", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        syslog(prio[level], "%s%s%s%s", log_id, log_id[0] ? ": " : "", tag[level], msg);
        closelog();
}
