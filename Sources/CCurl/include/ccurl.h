#ifndef VIGIL_CCURL_H
#define VIGIL_CCURL_H
#include <stddef.h>

/* One HTTP POST of a JSON body with libcurl (Debian's libcurl4-openssl-dev), for the etcd v3 JSON
 * gateway. TLS files may be NULL. On success returns 0, sets *status and *out (malloc'd, NUL
 * terminated; free with vigil_http_free). On failure returns non-zero with a message in err. */
int vigil_http_post(const char *url, const char *body, const char *cafile, const char *cert, const char *key,
                    long timeout_ms, long *status, char **out, size_t *outlen, char *err, size_t errlen);
void vigil_http_free(char *p);
/* Once per process, before any thread uses vigil_http_post. */
int vigil_http_init(void);

#endif
