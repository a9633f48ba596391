#ifndef VIGIL_CSYSTEMD_SHIM_H
#define VIGIL_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/* sd_journal_send is variadic, which Swift cannot call: fixed-arity wrappers. */
static inline int vigil_journal_send(int priority, const char *message, const char *f1, const char *f2,
                                     const char *f3, const char *f4) {
    return sd_journal_send("MESSAGE=%s", message, "PRIORITY=%i", priority, "SYSLOG_IDENTIFIER=vigild",
                           "%s", f1, "%s", f2, "%s", f3, "%s", f4, NULL);
}
#endif
