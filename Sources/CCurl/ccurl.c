#include "ccurl.h"
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* The response, at most 1 MiB (etcd's answers here are a few hundred bytes). */
struct buffer { char *data; size_t len; int overflow; };

static size_t collect(char *ptr, size_t size, size_t n, void *userdata) {
    struct buffer *b = userdata;
    size_t add = size * n;
    if (b->len + add > (1u << 20)) { b->overflow = 1; return 0; }
    char *p = realloc(b->data, b->len + add + 1);
    if (!p) return 0;
    memcpy(p + b->len, ptr, add);
    b->data = p;
    b->len += add;
    b->data[b->len] = 0;
    return add;
}

int vigil_http_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : 1; }

void vigil_http_free(char *p) { free(p); }

int vigil_http_post(const char *url, const char *body, const char *cafile, const char *cert, const char *key,
                    long timeout_ms, long *status, char **out, size_t *outlen, char *err, size_t errlen) {
    CURL *c = curl_easy_init();
    if (!c) { snprintf(err, errlen, "curl_easy_init failed"); return 1; }
    struct buffer b = { NULL, 0, 0 };
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    char curlerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
    if (cafile) curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
    if (cert) curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
    if (key) curl_easy_setopt(c, CURLOPT_SSLKEY, key);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", b.overflow ? "answer over 1 MiB" : (curlerr[0] ? curlerr : curl_easy_strerror(rc)));
        free(b.data);
        return 1;
    }
    *out = b.data ? b.data : calloc(1, 1);
    *outlen = b.len;
    return 0;
}
