/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdint.h>
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

/* Length of the UTF-8 sequence at S (1-4) and its code point; 0 when S
 * does not start a valid, shortest-form sequence. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
        size_t n, i;
        uint32_t c;

        if (s[0] < 0x80) {
                *cp = s[0];
                return 1;
        }
        if ((s[0] & 0xe0) == 0xc0)
                n = 2, c = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                n = 3, c = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                n = 4, c = s[0] & 0x07;
        else
                return 0;
        for (i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
            (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return n;
}

/* Characters that move the cursor, change the terminal, or reorder text. */
static bool unsafe_cp(uint32_t c)
{
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
               (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

size_t log_escape(const char *in, char *out, size_t size)
{
        const unsigned char *s = (const unsigned char *)in;
        size_t o = 0;

        if (size == 0)
                return 0;
        while (*s) {
                char esc[12];
                uint32_t c = 0;
                size_t n = utf8_decode(s, &c), el;

                if (n == 0)
                        el = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *s), n = 1;
                else if (unsafe_cp(c))
                        el = (size_t)(c < 0x80 ? snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)c)
                                               : snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)c));
                else
                        memcpy(esc, s, n), el = n;
                if (o + el >= size)
                        break;
                memcpy(out + o, esc, el);
                o += el;
                s += n;
        }
        out[o] = '\0';
        return o;
}

/* Also to the kernel log: runc and crun drop a hook's stderr when it
 * succeeds, and a host without a syslog daemon drops syslog(3); `dmesg`
 * and the host's journal show the kernel log everywhere. */
static bool log_kmsg_on;

void log_set_kmsg(bool on)
{
        log_kmsg_on = on;
}

static void log_kmsg(int prio, const char *tag, const char *msg)
{
        int fd = log_kmsg_on ? open("/dev/kmsg", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -EBADF;
        char line[1200];
        int n;

        if (fd < 0)
                return;
        n = snprintf(line, sizeof(line), "<%d>oci-systemd-hook[%d]: %s%s%s%s\n", prio, (int)getpid(), log_id,
                     log_id[0] ? ": " : "", tag, msg);
        if (n > 0)
                (void)!write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        (void)close(fd);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
        static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
        static const char *const tag[] = { "", "warning: ", "", "debug: " };
        char raw[1024], msg[1024];
        va_list ap;

        if (level == LOG_LEVEL_DEBUG && !log_debug_on)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        /* One line, nothing a terminal or a log viewer would act on. */
        (void)log_escape(raw, msg, sizeof(msg));
        if (log_id[0])
                fprintf(stderr, "oci-systemd-hook: %s: %s%s\n", log_id, tag[level], msg);
        else
                fprintf(stderr, "oci-systemd-hook: %s%s\n", tag[level], msg);
        if (level == LOG_LEVEL_DEBUG)
                return;
        log_kmsg(prio[level], tag[level], msg);
        openlog("oci-systemd-hook", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        syslog(prio[level], "%s%s%s%s", log_id, log_id[0] ? ": " : "", tag[level], msg);
        closelog();
}
