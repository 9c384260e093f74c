// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <microhttpd.h>
#include "clock.h"
#include "http.h"

#define NS_PER_S 1000000000ULL

/*
 * Hostile clients (slow loris): every local user can connect to the port.
 * A connection gets HTTP_HEADER_TIMEOUT_S to deliver a whole request's
 * headers (from accept, or from the end of its last response, however
 * slowly the bytes trickle in) and HTTP_RESPONSE_TIMEOUT_S to take the
 * answer.  Beyond HTTP_CONNS_PER_CLIENT connections from one address, or
 * HTTP_CONNS in all, the ones that have waited longest for their request
 * are closed; but not before HTTP_GRACE_NS, time enough for an honest client
 * to send its request.  A scraper sends it at once and is answered at once,
 * so no flood of newer connections from its own address (an attacker can
 * open them as fast as they are accepted) pushes it out before.  New
 * connections past HTTP_CONNS_HARD wait in the listen backlog, first come
 * first served, while the old ones are closed.  libmicrohttpd's own
 * per-address limit would refuse the newcomer instead, i.e. the scraper if
 * it shares the attacker's address (all of loopback does), so it is not used.
 */
#define HTTP_HEADER_TIMEOUT_S 3
#define HTTP_RESPONSE_TIMEOUT_S 10
#define HTTP_CONNS 64
#define HTTP_CONNS_PER_CLIENT 16
#define HTTP_GRACE_NS (2000 * 1000000ULL)
/* libmicrohttpd's hard limit: above it, it stops accepting (connections
 * wait in the listen backlog).  It bounds what one client holds while its
 * connections are younger than HTTP_GRACE_NS, and gives room for those
 * closed by us whose close libmicrohttpd has not seen yet. */
#define HTTP_CONNS_HARD (2 * HTTP_CONNS)
/* How often deadlines are checked while connections are open. */
#define HTTP_CHECK_NS (250 * 1000000ULL)

struct http_conn {
	struct http_conn *next;
	int fd;
	struct sockaddr_storage peer;
	bool waiting;         /* for a request's headers (else answering one) */
	bool closing;         /* shut down by us; libmicrohttpd closes it next */
	uint64_t since_ns;    /* start of the wait, or of the answer */
	uint64_t deadline_ns;
};

struct http_server {
	struct MHD_Daemon *mhd;
	const struct lw_buf *page;
	struct http_conn *conns;
	int epfd;     /* the fd the daemon's loop watches: mhd's epoll + timer */
	int timer_fd; /* deadline checks, armed while connections are open */
	bool timer_armed;
};

int http_parse_addr(const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon;
	char *end;
	size_t len;
	long port;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(addr, ':');
	if (!colon)
		return -EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || errno || port < 1 || port > 65535)
		return -EINVAL;
	len = (size_t)(colon - addr);
	if (len >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, len);
	host[len] = '\0';
	if (host[0] == '[' && len > 2 && host[len - 1] == ']') {
		host[len - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)port);
	if (!host[0] || !strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	return inet_pton(AF_INET, host, &in4->sin_addr) == 1 ? 0 : -EINVAL;
}

/* The same client: the same address, whatever the port. */
static bool same_client(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr));
	if (b->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr,
			       sizeof(struct in6_addr));
	return false;
}

/* libmicrohttpd sees end of file and closes the connection in its next run. */
static void conn_close(struct http_conn *hc)
{
	shutdown(hc->fd, SHUT_RDWR);
	hc->closing = true;
}

static void conn_set_state(struct http_conn *hc, bool waiting)
{
	hc->waiting = waiting;
	hc->since_ns = clock_mono_ns();
	hc->deadline_ns = hc->since_ns +
		(waiting ? HTTP_HEADER_TIMEOUT_S : HTTP_RESPONSE_TIMEOUT_S) * NS_PER_S;
}

/* The connection of client (NULL: of anyone) that has waited longest for
 * its request, if that is longer than HTTP_GRACE_NS; and how many
 * connections client has open. */
static struct http_conn *longest_waiting(struct http_server *s, const struct sockaddr *client,
					 uint64_t now, unsigned int *open)
{
	struct http_conn *hc, *oldest = NULL;

	*open = 0;
	for (hc = s->conns; hc; hc = hc->next) {
		if (hc->closing || (client && !same_client(&hc->peer, client)))
			continue;
		(*open)++;
		if (hc->waiting && hc->since_ns + HTTP_GRACE_NS <= now &&
		    (!oldest || hc->since_ns < oldest->since_ns))
			oldest = hc;
	}
	return oldest;
}

/* Close the longest waiting connections past the limits. */
static void enforce_limits(struct http_server *s, uint64_t now)
{
	struct http_conn *hc, *victim;
	unsigned int open;

	for (hc = s->conns; hc; hc = hc->next) {
		if (hc->closing)
			continue;
		while ((victim = longest_waiting(s, (struct sockaddr *)&hc->peer, now, &open)) &&
		       open > HTTP_CONNS_PER_CLIENT)
			conn_close(victim);
	}
	while ((victim = longest_waiting(s, NULL, now, &open)) && open > HTTP_CONNS)
		conn_close(victim);
}

static int timer_arm(struct http_server *s, bool on)
{
	struct itimerspec its = {};

	if (s->timer_armed == on)
		return 0;
	if (on) {
		its.it_value.tv_nsec = HTTP_CHECK_NS;
		its.it_interval.tv_nsec = HTTP_CHECK_NS;
	}
	if (timerfd_settime(s->timer_fd, 0, &its, NULL))
		return -errno;
	s->timer_armed = on;
	return 0;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode what)
{
	struct http_server *s = cls;
	struct http_conn *hc = *socket_context, **pp;
	const union MHD_ConnectionInfo *fd_info, *addr_info;

	if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
		for (pp = &s->conns; *pp; pp = &(*pp)->next) {
			if (*pp == hc) {
				*pp = hc->next;
				break;
			}
		}
		free(hc);
		*socket_context = NULL;
		if (!s->conns)
			timer_arm(s, false);
		return;
	}
	fd_info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr_info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	hc = calloc(1, sizeof(*hc));
	if (!hc || !fd_info || !addr_info) {
		/* Untracked, it would escape the limits: no service rather. */
		if (fd_info)
			shutdown(fd_info->connect_fd, SHUT_RDWR);
		free(hc);
		return;
	}
	hc->fd = fd_info->connect_fd;
	memcpy(&hc->peer, addr_info->client_addr,
	       addr_info->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							    : sizeof(struct sockaddr_in));
	conn_set_state(hc, true);
	hc->next = s->conns;
	s->conns = hc;
	*socket_context = hc;
	timer_arm(s, true);
}

static struct http_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

/* A response sent (or the request given up): the next request's wait starts. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_conn *hc = conn_of(c);

	(void)cls;
	(void)con_cls;
	(void)toe;
	if (hc)
		conn_set_state(hc, true);
}

static enum MHD_Result queue_text(struct MHD_Connection *c, unsigned int status,
				  const char *text, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(resp, "Allow", allow);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_conn *hc = conn_of(c);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (hc && hc->waiting)
		conn_set_state(hc, false); /* the headers are in */
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return queue_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "leakwatch: only GET and HEAD\n", "GET, HEAD");
	if (strcmp(url, "/metrics"))
		return queue_text(c, MHD_HTTP_NOT_FOUND, "leakwatch: metrics are at /metrics\n",
				  NULL);
	resp = MHD_create_response_from_buffer(s->page->len, s->page->data,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int watch(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

void http_stop(struct http_server *s)
{
	struct http_conn *hc;

	if (!s)
		return;
	if (s->mhd)
		MHD_stop_daemon(s->mhd); /* closes each connection: frees its http_conn */
	while ((hc = s->conns)) {
		s->conns = hc->next;
		free(hc);
	}
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
}

int http_start(const char *addr, const struct lw_buf *page, struct http_server **out)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct http_server *s;
	/* TURBO: a new connection's request is read in the run that accepts it. */
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_TURBO;
	int err;

	err = http_parse_addr(addr, &ss);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->page = page;
	s->timer_fd = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->epfd < 0 || s->timer_fd < 0) {
		err = -errno;
		goto fail;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	s->mhd = MHD_start_daemon(flags, ntohs(((struct sockaddr_in *)&ss)->sin_port), NULL, NULL,
				  on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_HEADER_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONNS_HARD,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	if (!s->mhd) {
		err = errno ? -errno : -EADDRINUSE;
		goto fail;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	err = info ? watch(s->epfd, info->epoll_fd) : -EINVAL;
	if (!err)
		err = watch(s->epfd, s->timer_fd);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	http_stop(s);
	return err;
}

int http_fd(const struct http_server *s)
{
	return s->epfd;
}

int http_run(struct http_server *s)
{
	uint64_t now = clock_mono_ns(), expirations;
	struct http_conn *hc;

	if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return -errno;
	for (hc = s->conns; hc; hc = hc->next)
		if (!hc->closing && now >= hc->deadline_ns)
			conn_close(hc);
	enforce_limits(s, now);
	return MHD_run(s->mhd) == MHD_YES ? 0 : -EIO;
}
