/*
 * api/cfgjson.c -- the effective configuration (every setting after
 * defaults) as JSON, grouped and named as in dsyncd.conf(5).  Nothing
 * secret is in struct cfg except what files hold: the tokens file and the
 * TLS key are shown by path only, never read here.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "api/internal.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *name_json(const uint8_t *name)
{
	char s[DNAME_STR_MAX];
	return dname_to_str(name, s, sizeof(s)) == DS_OK ? json_string(s) : json_null();
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && v && (n ? i < n : v[i] != NULL); i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* A backend: name, type and the settings its type declares, by their kind. */
static json_t *backend_json(const struct cfg_backend *b)
{
	json_t *o = json_pack("{s:s,s:s}", "name", b->name, "type", b->type);
	for (const struct cfg_setting *st = b->bt && b->settings ? b->bt->settings : NULL;
	     o && st && st->name; st++) {
		const void *at = (const char *)b->settings + st->off;
		json_t *v = NULL;
		switch (st->kind) {
		case CFG_UINT:
			v = json_integer(*(const unsigned *)at);
			break;
		case CFG_STR:
		case CFG_PATH:
			v = str_or_null(*(char *const *)at);
			break;
		case CFG_STRV:
			v = *(char **const *)at ? strv_json(*(char **const *)at, 0) : json_null();
			break;
		}
		json_object_set_new(o, st->name, v);
	}
	return o;
}

/* A bit set over 0..255 as the list of its members. */
static json_t *bits_json(const uint8_t set[32])
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < 256; i++)
		if ((set[i >> 3] >> (i & 7)) & 1)
			json_array_append_new(a, json_integer(i));
	return a;
}

static const char *level_str(int level)
{
	static const char *const names[] = {"err", "warning", "notice", "info", "debug"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (log_level_from_str(names[i]) == level)
			return names[i];
	return "?";
}

static const char *facility_str(int fac)
{
	static const char *const names[] = {"daemon", "user",	"local0", "local1", "local2",
					    "local3", "local4", "local5", "local6", "local7"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (log_facility_from_str(names[i]) == fac)
			return names[i];
	return "?";
}

static json_t *zone_json(const struct cfg_zone *z)
{
	const struct zone_policy *p = &z->pol;
	json_t *methods = json_array(), *children = json_array(), *backends = json_array();
	char text[8192];
	for (unsigned i = 0; methods && i < z->nboot_order; i++)
		json_array_append_new(methods, json_string(cfg_boot_method_str(z->boot_order[i])));
	for (size_t i = 0; children && i < z->nchildren; i++) {
		const struct cfg_child *c = &z->children[i];
		json_t *keys = json_array();
		for (size_t k = 0; keys && k < c->nkeys; k++) {
			const struct cfg_key *ck = &c->keys[k];
			if (rr_to_str(ck->owner, 3600, T_KEY, ck->rdata, ck->rdlen, text,
				      sizeof(text)) != DS_OK)
				snprintf(text, sizeof(text), "?");
			json_array_append_new(keys, json_pack("{s:s,s:i,s:i,s:s}", "key", text,
							      "tag", (int)ck->tag, "algorithm",
							      (int)ck->alg, "source", ck->source));
		}
		json_array_append_new(
		    children, json_pack("{s:o,s:o}", "name", name_json(c->name), "keys", keys));
	}
	for (size_t i = 0; backends && i < z->nbackends; i++)
		json_array_append_new(backends, backend_json(&z->backends[i]));
	return json_pack("{s:o,s:i,s:i,s:i,s:i,s:i,s:i,s:o,s:o,s:o,s:o,s:i,s:b,s:o,s:o}", "name",
			 name_json(z->name), "delegation-ttl", (int)p->deleg_ttl, "min-ns",
			 (int)p->min_ns, "max-ns", (int)p->max_ns, "max-ds", (int)p->max_ds,
			 "max-glue", (int)p->max_glue, "max-update-records", (int)p->max_update_rrs,
			 "ds-digest-types", bits_json(p->ds_digest_ok), "ds-algorithms",
			 bits_json(p->ds_alg_ok), "key-algorithms", bits_json(z->key_alg_ok),
			 "bootstrap-methods", methods, "bootstrap-max-pending",
			 (int)z->boot_max_pending, "key-rollover", z->key_rollover, "children",
			 children, "backends", backends);
}

json_t *api_config_json(const struct cfg *c)
{
	json_t *zones = json_array();
	for (size_t i = 0; zones && i < c->nzones; i++)
		json_array_append_new(zones, zone_json(&c->zones[i]));
	bool rname = c->receiver.enabled || c->receiver.name[0] != 0;
	const char *sign = !c->receiver.enabled	      ? "off"
			   : c->receiver.with_request ? "rfc2931"
						      : "response-only";
	json_t *server = json_pack(
	    "{s:o,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "listen",
	    strv_json(c->listen, c->nlisten), "port", (int)c->port, "workers", (int)c->workers,
	    "tcp-idle-timeout", (int)c->tcp_idle_timeout, "tcp-max-connections",
	    (int)c->tcp_max_connections, "tcp-connections-per-network", (int)c->tcp_per_network,
	    "max-message-size", (int)c->max_message_size, "queue-max", (int)c->queue_max,
	    "commit-batch-max", (int)c->commit_batch_max, "udp-receive-buffer", (int)c->udp_rcvbuf,
	    "updates-per-source", (int)c->upd_per_source, "updates-per-signer",
	    (int)c->upd_per_signer);
	json_t *sig0 =
	    json_pack("{s:o,s:i,s:i,s:i,s:i,s:i,s:i}", "algorithms",
		      bits_json(c->limits.alg_allowed), "rsa-min-bits", (int)c->limits.rsa_min_bits,
		      "rsa-max-bits", (int)c->limits.rsa_max_bits, "max-age", (int)c->sig_max_age,
		      "clock-skew", (int)c->sig_clock_skew, "max-validity",
		      (int)c->sig_max_validity, "verify-budget", (int)c->verify_budget);
	json_t *boot = json_pack(
	    "{s:i,s:i,s:i,s:i,s:i,s:i,s:s,s:i,s:i,s:o,s:o,s:i,s:i}", "uploads-per-child",
	    (int)c->boot_per_child, "uploads-per-source", (int)c->boot_per_source,
	    "max-pending-total", (int)c->boot.max_pending_total, "retry-interval",
	    (int)c->boot.retry_interval, "retry-max-interval", (int)c->boot.retry_max_interval,
	    "attempts", (int)c->boot.attempts, "at-ns-require", c->boot.at_ns_all ? "all" : "any",
	    "unsigned-rounds", (int)c->boot.rounds, "unsigned-interval",
	    (int)c->boot.round_interval, "unsigned-vantage",
	    strv_json(c->boot.vantage, c->boot.nvantage), "unsigned-resolvers",
	    strv_json(c->boot.resolvers, c->boot.nresolvers), "nameserver-port",
	    (int)c->boot.ns_port, "query-timeout", (int)c->boot.query_timeout);
	json_t *api = json_pack("{s:b,s:s?,s:i,s:s?,s:s?,s:s?,s:i}", "enabled", c->api.enabled,
				"listen", c->api.listen, "port", (int)c->api.port, "tokens-file",
				c->api.tokens_file, "tls-certificate", c->api.tls_cert, "tls-key",
				c->api.tls_key, "max-body", (int)c->api.max_body);
	json_t *resolver =
	    json_pack("{s:s?,s:s?,s:s?,s:o,s:i}", "trust-anchor-file", c->resolver.ta_file,
		      "root-hints", c->resolver.root_hints, "config-file", c->resolver.config_file,
		      "forward", strv_json(c->resolver.forward, c->resolver.nforward), "timeout",
		      (int)c->resolver.timeout);
	json_t *receiver = json_pack(
	    "{s:o,s:s?,s:i,s:s,s:i,s:i,s:i,s:o,s:i,s:i,s:i}", "name",
	    rname ? name_json(c->receiver.name) : json_null(), "key-directory", c->receiver.key_dir,
	    "algorithm", (int)c->receiver.alg, "sign", sign, "sign-budget",
	    (int)c->receiver.sign_budget, "roll-publish", (int)c->receiver.roll_publish,
	    "roll-retire", (int)c->receiver.roll_retire, "addresses",
	    strv_json(c->receiver.addresses, c->receiver.naddresses), "publish-ttl",
	    (int)c->receiver.publish_ttl, "dsync-scheme", (int)c->receiver.dsync_scheme,
	    "svcb-bootstrap-key", (int)c->receiver.svcb_key);
	return json_pack(
	    "{s:s?,s:o,s:{s:s?,s:i},s:{s:s,s:s,s:s},s:o,s:{s:i,s:i},s:{s:i,s:i,s:i,s:i},"
	    "s:{s:i,s:b,s:i},s:o,s:o,s:o,s:o,s:o}",
	    "file", c->file, "server", server, "store", "path", c->store_path, "retention-days",
	    (int)c->retention_days, "log", "target", c->log_syslog ? "syslog" : "stderr", "level",
	    level_str(c->log_level), "facility", facility_str(c->log_facility), "sig0", sig0,
	    "outbox", "retry-min", (int)c->retry_min, "retry-max", (int)c->retry_max, "ede",
	    "key-unknown", (int)c->ede.key_unknown, "key-not-trusted", (int)c->ede.key_not_trusted,
	    "key-validation-failed", (int)c->ede.key_validation_failed, "manual-bootstrap-required",
	    (int)c->ede.manual_bootstrap, "keystate", "option-code", (int)c->ks_option,
	    "unsigned-inquiries", c->ks_unsigned, "inquiries-per-source", (int)c->ks_per_source,
	    "bootstrap", boot, "api", api, "resolver", resolver, "receiver", receiver, "zones",
	    zones);
}
