/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* paactl check --url, TLS: the guide's 5.3 ("ssl_protocols TLSv1.2
 * TLSv1.3") asked of the server itself. Each protocol version gets its own
 * handshake with the client pinned to it (min = max), so the answer is the
 * server's policy, not a negotiation's outcome. TLS 1.0 and 1.1 need the
 * client at security level 0 with every cipher: OpenSSL 3 refuses them at
 * its default level, and Debian's configuration may also forbid them. When
 * the client cannot offer a version at all it never sends a ClientHello
 * (nothing is written to the socket): that is reported as SKIP, never as
 * the server refusing it. The certificate is judged on the TLS 1.2+
 * handshake, against --cacert or the system's CAs, for the URL's host. */

#include "check.h"

#include <apr_strings.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define TLS_TIMEOUT_SEC 10

static const check_def_t def_v10 = {"tls.v1.0", "5.3", "TLS 1.0 refused"};
static const check_def_t def_v11 = {"tls.v1.1", "5.3", "TLS 1.1 refused"};
static const check_def_t def_modern = {"tls.modern", "5.3",
                                       "TLS 1.2 or later accepted"};
static const check_def_t def_cert = {
    "tls.cert", "5.3", "certificate valid and not about to expire"};
/* In the order they are reported. */
static const check_def_t *const tls_defs[] = {&def_modern, &def_v10, &def_v11,
                                              &def_cert, NULL};

typedef enum {
    PROBE_ACCEPTED,
    PROBE_REFUSED,
    PROBE_CLIENT_CANNOT, /* no ClientHello could be sent */
    PROBE_NO_CONNECTION
} probe_e;

typedef struct {
    probe_e result;
    const char *detail;    /* the version negotiated, or why not */
    long verify;           /* X509_V_OK or why the certificate fails */
    apr_int64_t remaining; /* seconds until the certificate expires */
    const char *subject;
} probe_t;

static int tcp_connect(check_t *ck, const char *host, const char *port,
                       const char **err)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct timeval tv = {TLS_TIMEOUT_SEC, 0};
    int fd = -1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        *err = apr_psprintf(ck->ctl->pool, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    *err = "connection refused";
    for (ai = res; ai; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) <
            0) {
            continue;
        }
        /* Linux applies the send timeout to connect() as well. */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        *err = apr_pstrdup(ck->ctl->pool, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 ||
           inet_pton(AF_INET6, host, buf) == 1;
}

static SSL_CTX *probe_ctx(check_t *ck, int min, int max)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, min) ||
        !SSL_CTX_set_max_proto_version(ctx, max)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (max && max < TLS1_2_VERSION) {
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    }
    /* The handshake completes whatever the certificate; its verdict is
     * read afterwards, so that a bad certificate does not hide the
     * protocol answer. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (ck->cacert ? !SSL_CTX_load_verify_locations(ctx, ck->cacert, NULL)
                   : !SSL_CTX_set_default_verify_paths(ctx)) {
        ERR_clear_error(); /* then nothing verifies: told by tls.cert */
    }
    return ctx;
}

static void probe_peer(check_t *ck, SSL *ssl, probe_t *out)
{
    X509 *cert = SSL_get1_peer_certificate(ssl);
    int days = 0, secs = 0;
    char name[256];

    out->result = PROBE_ACCEPTED;
    out->detail = SSL_get_version(ssl);
    out->verify = SSL_get_verify_result(ssl);
    if (!cert) {
        out->verify = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
        return;
    }
    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert))) {
        out->remaining = (apr_int64_t)days * 86400 + secs;
    }
    X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof(name));
    out->subject = apr_pstrdup(ck->ctl->pool, name);
    X509_free(cert);
}

/* One handshake with versions min..max (max 0: the highest the client
 * knows). */
static void probe(check_t *ck, const char *host, const char *port, int min,
                  int max, probe_t *out)
{
    SSL_CTX *ctx = probe_ctx(ck, min, max);
    SSL *ssl = NULL;
    const char *err = NULL;
    int fd;

    memset(out, 0, sizeof(*out));
    out->result = PROBE_CLIENT_CANNOT;
    out->detail = "this OpenSSL cannot be set to that version";
    if (!ctx) {
        ERR_clear_error();
        return;
    }
    if ((fd = tcp_connect(ck, host, port, &err)) < 0) {
        out->result = PROBE_NO_CONNECTION;
        out->detail = err;
        SSL_CTX_free(ctx);
        return;
    }
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (is_ip(host)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    }
    else {
        SSL_set_tlsext_host_name(ssl, host);
        SSL_set1_host(ssl, host);
    }
    ERR_clear_error();
    if (SSL_connect(ssl) == 1) {
        probe_peer(ck, ssl, out);
        SSL_shutdown(ssl);
    }
    else {
        unsigned long e = ERR_peek_error();
        out->result = BIO_number_written(SSL_get_wbio(ssl))
                          ? PROBE_REFUSED
                          : PROBE_CLIENT_CANNOT;
        out->detail = e ? apr_pstrdup(ck->ctl->pool, ERR_reason_error_string(e))
                        : "the server closed the connection";
        ERR_clear_error();
    }
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
}

static void judge_old(check_t *ck, const check_def_t *d, const char *name,
                      const probe_t *pr)
{
    switch (pr->result) {
    case PROBE_ACCEPTED:
        check_add(ck, d, CHECK_FAIL,
                  "SSLProtocol -all +TLSv1.2 +TLSv1.3 (guide 5.3)",
                  "the server accepts %s (negotiated %s)", name, pr->detail);
        break;
    case PROBE_REFUSED:
        check_add(ck, d, CHECK_PASS, NULL, "%s refused (%s)", name, pr->detail);
        break;
    case PROBE_CLIENT_CANNOT:
        check_add(ck, d, CHECK_SKIP, NULL,
                  "this OpenSSL client cannot offer %s (%s): not tested", name,
                  pr->detail);
        break;
    default:
        check_add(ck, d, CHECK_SKIP, NULL, "no connection: %s", pr->detail);
    }
}

static void judge_cert(check_t *ck, const char *host, const probe_t *pr)
{
    if (pr->verify != X509_V_OK) {
        check_add(ck, &def_cert, CHECK_FAIL,
                  "a certificate for this host from a CA clients trust "
                  "(certbot, guide 5.3); --cacert for a private CA",
                  "the certificate for %s does not verify: %s (%s)", host,
                  X509_verify_cert_error_string(pr->verify),
                  pr->subject ? pr->subject : "no certificate");
    }
    else if (pr->remaining <= ck->expiry_warning) {
        check_add(ck, &def_cert, CHECK_WARN, "renew it (certbot renew)",
                  "the certificate for %s expires in %s", host,
                  check_age(ck, pr->remaining));
    }
    else {
        check_add(ck, &def_cert, CHECK_PASS, NULL,
                  "the certificate for %s (%s) verifies and is valid for %s",
                  host, pr->subject, check_age(ck, pr->remaining));
    }
}

void check_tls(check_t *ck, const char *host, const char *port)
{
    probe_t modern, old;

    if (!host) {
        check_skip_all(ck, tls_defs, "no HTTPS endpoint (see live.https)");
        return;
    }
    probe(ck, host, port, TLS1_2_VERSION, 0, &modern);
    if (modern.result == PROBE_NO_CONNECTION) {
        check_add(ck, &def_modern, CHECK_FAIL,
                  "a TLS listener (mod_ssl) on the URL's port",
                  "cannot connect to %s:%s: %s", host, port, modern.detail);
        check_skip_all(ck, tls_defs + 1, "no connection");
        return;
    }
    if (modern.result == PROBE_ACCEPTED) {
        check_add(ck, &def_modern, CHECK_PASS, NULL, "%s negotiated",
                  modern.detail);
    }
    else {
        check_add(ck, &def_modern, CHECK_FAIL,
                  "SSLProtocol -all +TLSv1.2 +TLSv1.3 (guide 5.3)",
                  "TLS 1.2 and later refused: %s", modern.detail);
    }
    probe(ck, host, port, TLS1_VERSION, TLS1_VERSION, &old);
    judge_old(ck, &def_v10, "TLS 1.0", &old);
    probe(ck, host, port, TLS1_1_VERSION, TLS1_1_VERSION, &old);
    judge_old(ck, &def_v11, "TLS 1.1", &old);
    if (modern.result == PROBE_ACCEPTED) {
        judge_cert(ck, host, &modern);
    }
    else {
        check_add(ck, &def_cert, CHECK_SKIP, NULL,
                  "no TLS 1.2+ handshake to read it from");
    }
}
