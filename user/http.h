/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metrics endpoint: libmicrohttpd in its external-epoll mode, so that
 * its fd joins the daemon's one epoll loop and no thread shares the tracker.
 * GET /metrics serves the text the daemon last rendered.
 */
#ifndef LW_HTTP_H
#define LW_HTTP_H
#include <sys/socket.h>
#include "buf.h"

struct http_server;

/* addr: "HOST:PORT", "[V6]:PORT" or ":PORT" (loopback).  Returns 0, -EINVAL
 * (a malformed address) or -errno (cannot listen). */
int http_start(const char *addr, const struct lw_buf *page, struct http_server **out);
void http_stop(struct http_server *s);
/* The fd to watch for readability, and what to call when it is readable
 * (and once per interval, for connection timeouts). */
int http_fd(const struct http_server *s);
int http_run(struct http_server *s);

/* Parses "HOST:PORT" (IPv4 or [IPv6]; an empty host is 127.0.0.1). */
int http_parse_addr(const char *addr, struct sockaddr_storage *ss);

#endif
