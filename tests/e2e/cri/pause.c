/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sandbox ("pause") process of tests/e2e/test-cri.sh: holds the pod's
 * namespaces and does nothing.  Built at test time with gcc -static into a
 * one-file image.  Exits 0 on SIGINT/SIGTERM, as the real pause does. */
#include <signal.h>
#include <unistd.h>

static void quit(int sig)
{
        (void)sig;
        _exit(0);
}

int main(void)
{
        (void)signal(SIGINT, quit);
        (void)signal(SIGTERM, quit);
        for (;;)
                (void)pause();
}
