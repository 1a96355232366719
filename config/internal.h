/*
 * internal.h — what config.c (the schema) uses of yaml_doc.c (the YAML layer). Not
 * for use outside config/.
 *
 * A cfg_doc is one parsed YAML document plus the error it has reported. Every
 * function that reads from it returns false (or -1) once a problem is found, after
 * writing "name:line:column: message" to err; the first message is never
 * overwritten, so callers simply stop and return false.
 *
 * In messages, `key` is the key whose value is read ("for \"key\"") and `item` says
 * the node is an entry of that key's sequence instead ("in \"key\"").
 */
#ifndef MOAT_CONFIG_INTERNAL_H
#define MOAT_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "config/config.h"

#define CFG_MUST_CHECK __attribute__((warn_unused_result))
#define CFG_PRINTF(fmt_arg, first_arg) __attribute__((format(printf, fmt_arg, first_arg)))

typedef struct {
    const char *name; /* file name for messages; borrowed */
    const char *src;  /* the YAML text (src_len bytes, no NUL needed); borrowed */
    size_t src_len;
    yaml_document_t tree; /* valid after cfg__doc_parse succeeds, until cfg__doc_clear */
    char *err;            /* caller's buffer, may be NULL */
    size_t errlen;
    bool failed; /* an error has been written: later ones are dropped */
} cfg_doc;

/* Parses src into d->tree: exactly one non-empty document, nested at most 64 deep.
 * On failure writes the syntax error (or "empty", or "second document") to err. */
CFG_MUST_CHECK bool cfg__doc_parse(cfg_doc *d);
/* Releases d->tree (only after cfg__doc_parse succeeded). */
void cfg__doc_clear(cfg_doc *d);

/* Records the first error at mark; always returns false. */
bool cfg__fail(cfg_doc *d, yaml_mark_t mark, const char *fmt, ...) CFG_PRINTF(3, 4);
bool cfg__out_of_memory(cfg_doc *d, yaml_mark_t mark);
/* "missing required key \"key\" <where>" at mark; returns false. */
bool cfg__missing(cfg_doc *d, yaml_mark_t mark, const char *key, const char *where);
/* Writes a message with no position (vsnprintf into err, which may be NULL). */
void cfg__set_error(char *err, size_t errlen, const char *fmt, ...) CFG_PRINTF(3, 4);

/* ---- nodes ------------------------------------------------------------------------- */

yaml_node_t *cfg__node(cfg_doc *d, int id);
yaml_node_t *cfg__item(cfg_doc *d, const yaml_node_t *seq, size_t i);
size_t cfg__seq_len(const yaml_node_t *seq);
size_t cfg__map_len(const yaml_node_t *map);
const char *cfg__text(const yaml_node_t *scalar);
/* A plain "", "~" or "null" scalar (quoted ones are strings). */
bool cfg__is_null(const yaml_node_t *n);

#define FOR_EACH_PAIR(p, map)                                                                      \
    for (yaml_node_pair_t *p = (map)->data.mapping.pairs.start; p < (map)->data.mapping.pairs.top; \
         p++)

/*
 * Checks one key of a mapping against keys[]: returns its index, or -1 after
 * reporting a key that is not a string, unknown ("unknown key \"k\" <where>", with a
 * hint for near misses) or repeated. seen[] (n_keys entries, NULL at first) keeps the
 * node of each key met so far; a caller may test seen[i] for required keys.
 */
CFG_MUST_CHECK int cfg__map_key(cfg_doc *d, const yaml_node_pair_t *pair, const char *where,
                                const char *const *keys, size_t n_keys, yaml_node_t **seen);
/* For a switch's default on cfg__map_key's result: reports our bug unless -1 already
 * reported the key. Returns false. */
bool cfg__unhandled_key(cfg_doc *d, const yaml_node_pair_t *pair);

/* ---- typed reads ---------------------------------------------------------------------- */

CFG_MUST_CHECK bool cfg__want_mapping(cfg_doc *d, const yaml_node_t *n, const char *key, bool item);
CFG_MUST_CHECK bool cfg__want_sequence(cfg_doc *d, const yaml_node_t *n, const char *key);
/* A non-null scalar without NUL bytes; *out is borrowed from the tree. */
CFG_MUST_CHECK bool cfg__get_string(cfg_doc *d, const yaml_node_t *n, const char *key, bool item,
                                    const char **out);
/* Same, and not "". */
CFG_MUST_CHECK bool cfg__get_nonempty(cfg_doc *d, const yaml_node_t *n, const char *key, bool item,
                                      const char **out);
/* strdup, reporting out of memory at n. */
CFG_MUST_CHECK bool cfg__dup_string(cfg_doc *d, const yaml_node_t *n, const char *s, char **out);
CFG_MUST_CHECK bool cfg__get_bool(cfg_doc *d, const yaml_node_t *n, const char *key, bool *out);
/* Decimal digits only (saturating at UINT64_MAX); false, with no message, otherwise. */
bool cfg__parse_uint(const char *s, uint64_t *out);
CFG_MUST_CHECK bool cfg__get_uint(cfg_doc *d, const yaml_node_t *n, const char *key, uint64_t min,
                                  uint64_t max, uint64_t *out);
/* A cfg_parse_duration_ms duration; zero only when zero_ok. */
CFG_MUST_CHECK bool cfg__get_duration(cfg_doc *d, const yaml_node_t *n, const char *key,
                                      bool zero_ok, uint64_t *ms);
/* One of names[] (its index in *out); an unknown value is reported with the list. */
CFG_MUST_CHECK bool cfg__get_choice(cfg_doc *d, const yaml_node_t *n, const char *key,
                                    const char *what, const char *const *names, size_t n_names,
                                    size_t *out);

#endif
