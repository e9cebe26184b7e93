/* Helpers for what Swift cannot reach in hiredis directly: the fixed-size
   errstr array, the reply fields behind a void pointer, and timeval building.
   Written against hiredis 0.14 and 1.x alike. */
#ifndef EXITBRAIN_CHIREDIS_SHIM_H
#define EXITBRAIN_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <errno.h>
#include <string.h>

/* hiredis 1.x reports a read/write timeout with its own code; 0.14 has none. */
#ifdef REDIS_ERR_TIMEOUT
#define EB_REDIS_ERR_TIMEOUT REDIS_ERR_TIMEOUT
#else
#define EB_REDIS_ERR_TIMEOUT 6
#endif

static inline int eb_timeout_code(void) { return EB_REDIS_ERR_TIMEOUT; }

static inline struct timeval eb_timeval_ms(long ms) {
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

static inline redisContext *eb_connect(const char *host, int port, long timeout_ms) {
    return redisConnectWithTimeout(host, port, eb_timeval_ms(timeout_ms));
}

static inline int eb_set_timeout(redisContext *c, long timeout_ms) {
    return redisSetTimeout(c, eb_timeval_ms(timeout_ms));
}

/* A zero timeval means "block without limit" (the subscriber's connection). */
static inline int eb_clear_timeout(redisContext *c) {
    struct timeval tv = {0, 0};
    return redisSetTimeout(c, tv);
}

static inline int eb_ctx_err(const redisContext *c) { return c->err; }
static inline const char *eb_ctx_errstr(const redisContext *c) { return c->errstr; }
static inline int eb_ctx_fd(const redisContext *c) { return (int)c->fd; }

/* Wakes a thread blocked reading this context: the read returns an error. */
static inline int eb_ctx_shutdown(const redisContext *c) { return shutdown((int)c->fd, SHUT_RDWR); }

static inline int eb_errno(void) { return errno; }

static inline int eb_get_reply(redisContext *c, redisReply **out) {
    void *reply = NULL;
    int rc = redisGetReply(c, &reply);
    *out = (redisReply *)reply;
    return rc;
}

static inline int eb_reply_type(const redisReply *r) { return r->type; }
static inline long long eb_reply_integer(const redisReply *r) { return r->integer; }
static inline const char *eb_reply_str(const redisReply *r) { return r->str; }
static inline size_t eb_reply_len(const redisReply *r) { return r->len; }
static inline size_t eb_reply_elements(const redisReply *r) { return r->elements; }
static inline const redisReply *eb_reply_element(const redisReply *r, size_t i) { return r->element[i]; }
static inline void eb_free_reply(redisReply *r) { freeReplyObject(r); }

#endif
