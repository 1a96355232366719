/*
 * yaml_doc.c — the YAML layer of the config loader: one parsed document whose nodes
 * keep their marks, and typed, checked reads from it that report the first problem
 * as "name:line:column: message".
 *
 * Implementation notes
 * - A streaming pass (check_depth) runs before yaml_parser_load and refuses nesting
 *   deeper than MAX_DEPTH: libyaml's loader slows down quadratically with depth (200k
 *   levels take minutes) and the schema needs 5.
 * - YAML syntax errors keep libyaml's words: "<problem> <context>" at the problem's
 *   mark; a reader error (bad UTF-8) only has a byte offset, turned into line and
 *   column here; a tab where indentation is expected gets a hint.
 * - Scalars are typed by their text, whatever their quoting: "8" and 8 are both the
 *   integer 8. Only a plain empty / ~ / null scalar is null, and null is never a
 *   valid value (leave the key out to get its default).
 * - libyaml accepts repeated keys in a mapping; cfg__map_key refuses them.
 * - d->failed latches: the first message stays, later calls only return false.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* The schema nests 5 deep; libyaml's loader is quadratic in depth. */
#define MAX_DEPTH 64

/* ---- errors ----------------------------------------------------------------------- */

/* Messages quote the config's own text, which may hold control characters (a quoted
 * scalar can carry "\n" or CRs): they become '?', so an error stays one line in a log
 * (found by fuzz_config). */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

/* Records the first error as "name:line:column: message"; always returns false. */
bool cfg__fail(cfg_doc *d, yaml_mark_t mark, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (d->failed)
        return false;
    d->failed = true;
    if (!d->err || !d->errlen)
        return false;
    n = snprintf(d->err, d->errlen, "%s:%zu:%zu: ", d->name, mark.line + 1, mark.column + 1);
    if (n < 0 || (size_t)n >= d->errlen)
        return false;
    va_start(ap, fmt);
    vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    one_line(d->err);
    return false;
}

/* For errors without a position: "name: message". */
void cfg__set_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    one_line(err);
}

bool cfg__out_of_memory(cfg_doc *d, yaml_mark_t mark)
{
    return cfg__fail(d, mark, "out of memory");
}

/* Edit distance between two short strings, for "did you mean" hints. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[33];

    if (la > 32 || lb > 32)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* ---- nodes and scalars ------------------------------------------------------------ */

yaml_node_t *cfg__node(cfg_doc *d, int id)
{
    return yaml_document_get_node(&d->tree, id);
}

const char *cfg__text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

bool cfg__is_null(const yaml_node_t *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < COUNT(nulls); i++)
        if (!strcmp(cfg__text(n), nulls[i]))
            return true;
    return false;
}

size_t cfg__seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *cfg__item(cfg_doc *d, const yaml_node_t *seq, size_t i)
{
    return cfg__node(d, seq->data.sequence.items.start[i]);
}

size_t cfg__map_len(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

/* "for \"key\"" when the node is a key's value, "in \"key\"" when it is an item of it. */
static bool type_error(cfg_doc *d, const yaml_node_t *n, const char *type, const char *key,
                       bool item)
{
    return cfg__fail(d, n->start_mark, "expected %s %s \"%s\"", type, item ? "in" : "for", key);
}

CFG_MUST_CHECK bool cfg__want_mapping(cfg_doc *d, const yaml_node_t *n, const char *key, bool item)
{
    return n->type == YAML_MAPPING_NODE || type_error(d, n, "a mapping", key, item);
}

CFG_MUST_CHECK bool cfg__want_sequence(cfg_doc *d, const yaml_node_t *n, const char *key)
{
    return n->type == YAML_SEQUENCE_NODE || type_error(d, n, "a sequence", key, false);
}

/* A non-null scalar without NUL bytes; *out is borrowed from the document. */
CFG_MUST_CHECK bool cfg__get_string(cfg_doc *d, const yaml_node_t *n, const char *key, bool item,
                                    const char **out)
{
    if (n->type != YAML_SCALAR_NODE || cfg__is_null(n))
        return type_error(d, n, "a string", key, item);
    if (strlen(cfg__text(n)) != n->data.scalar.length)
        return cfg__fail(d, n->start_mark, "NUL byte in the value %s \"%s\"", item ? "in" : "of",
                         key);
    *out = cfg__text(n);
    return true;
}

CFG_MUST_CHECK bool cfg__get_nonempty(cfg_doc *d, const yaml_node_t *n, const char *key, bool item,
                                      const char **out)
{
    if (!cfg__get_string(d, n, key, item, out))
        return false;
    return **out || cfg__fail(d, n->start_mark, "\"%s\" must not be empty", key);
}

CFG_MUST_CHECK bool cfg__dup_string(cfg_doc *d, const yaml_node_t *n, const char *s, char **out)
{
    *out = strdup(s);
    return *out || cfg__out_of_memory(d, n->start_mark);
}

CFG_MUST_CHECK bool cfg__get_bool(cfg_doc *d, const yaml_node_t *n, const char *key, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False",
                                                                              "FALSE"};

    for (size_t i = 0; n->type == YAML_SCALAR_NODE && i < COUNT(yes); i++) {
        if (!strcmp(cfg__text(n), yes[i]) || !strcmp(cfg__text(n), no[i])) {
            *out = !strcmp(cfg__text(n), yes[i]);
            return true;
        }
    }
    return cfg__fail(d, n->start_mark, "expected a boolean for \"%s\" (true or false)", key);
}

/* Decimal digits only; false without a message when the text is not one. */
bool cfg__parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (UINT64_MAX - 9) / 10)
            v = UINT64_MAX; /* saturate: still out of every range below */
        else
            v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

CFG_MUST_CHECK bool cfg__get_uint(cfg_doc *d, const yaml_node_t *n, const char *key, uint64_t min,
                                  uint64_t max, uint64_t *out)
{
    if (n->type != YAML_SCALAR_NODE || !cfg__parse_uint(cfg__text(n), out))
        return type_error(d, n, "an integer", key, false);
    if (*out < min || *out > max)
        return cfg__fail(d, n->start_mark, "\"%s\" must be between %llu and %llu", key,
                         (unsigned long long)min, (unsigned long long)max);
    return true;
}

/* True when text is digits-and-units shaped, so a parse failure can only be overflow. */
static bool duration_shaped(const char *s)
{
    for (; *s; s++)
        if (!strchr("0123456789msdh", *s))
            return false;
    return true;
}

CFG_MUST_CHECK bool cfg__get_duration(cfg_doc *d, const yaml_node_t *n, const char *key,
                                      bool zero_ok, uint64_t *ms)
{
    const char *s = NULL;

    if (!cfg__get_string(d, n, key, false, &s))
        return false;
    if (cfg_parse_duration_ms(s, ms) < 0) {
        if (s[0] == '-')
            return cfg__fail(d, n->start_mark, "\"%s\" must not be negative", key);
        if (s[0] >= '0' && s[0] <= '9' && duration_shaped(s))
            return cfg__fail(d, n->start_mark, "duration \"%s\" for \"%s\" is too large", s, key);
        return cfg__fail(d, n->start_mark,
                         "invalid duration \"%s\" for \"%s\" (expected a number and a unit: "
                         "500ms, 10s, 5m, 12h, 1d)",
                         s, key);
    }
    if (!zero_ok && *ms == 0)
        return cfg__fail(d, n->start_mark, "\"%s\" must be greater than zero", key);
    return true;
}

/* Maps a string to one of names[] (its index in *out), or lists them all in the error. */
CFG_MUST_CHECK bool cfg__get_choice(cfg_doc *d, const yaml_node_t *n, const char *key,
                                    const char *what, const char *const *names, size_t n_names,
                                    size_t *out)
{
    char valid[160] = "";
    const char *s = NULL;

    if (!cfg__get_string(d, n, key, false, &s))
        return false;
    for (size_t i = 0; i < n_names; i++) {
        if (!strcmp(s, names[i])) {
            *out = i;
            return true;
        }
        snprintf(valid + strlen(valid), sizeof valid - strlen(valid), "%s%s", i ? ", " : "",
                 names[i]);
    }
    return cfg__fail(d, n->start_mark, "unknown %s \"%s\" (valid: %s)", what, s, valid);
}

/*
 * Checks one key of a mapping against keys[]: returns its index, or -1 after reporting
 * a key that is not a string, unknown, or already present. seen[] (one entry per key,
 * NULL at first) keeps the node of every key met so far. where: "in listener".
 */
CFG_MUST_CHECK int cfg__map_key(cfg_doc *d, const yaml_node_pair_t *pair, const char *where,
                                const char *const *keys, size_t n_keys, yaml_node_t **seen)
{
    yaml_node_t *k = cfg__node(d, pair->key);
    const char *name, *hint = NULL;

    if (k->type != YAML_SCALAR_NODE) {
        cfg__fail(d, k->start_mark, "expected a string as key %s", where);
        return -1;
    }
    name = cfg__text(k);
    for (size_t i = 0; i < n_keys; i++) {
        if (strcmp(name, keys[i]))
            continue;
        if (seen[i]) {
            cfg__fail(d, k->start_mark, "duplicate key \"%s\" (first at line %zu)", name,
                      seen[i]->start_mark.line + 1);
            return -1;
        }
        seen[i] = k;
        return (int)i;
    }
    /* A hint only for near misses: one edit, or one per four characters of longer keys. */
    for (size_t i = 0; i < n_keys && !hint; i++) {
        size_t allowed = strlen(name) / 4 > 1 ? strlen(name) / 4 : 1;
        if (edit_distance(name, keys[i]) <= allowed)
            hint = keys[i];
    }
    if (hint)
        cfg__fail(d, k->start_mark, "unknown key \"%s\" %s (did you mean \"%s\"?)", name, where,
                  hint);
    else
        cfg__fail(d, k->start_mark, "unknown key \"%s\" %s", name, where);
    return -1;
}

/* A key cfg__map_key() accepted but the reader's switch forgot: our bug, said loudly. When
 * cfg__map_key() itself failed (-1) the first error is already recorded and this adds nothing. */
bool cfg__unhandled_key(cfg_doc *d, const yaml_node_pair_t *pair)
{
    return cfg__fail(d, cfg__node(d, pair->key)->start_mark, "internal error: key not handled");
}

bool cfg__missing(cfg_doc *d, yaml_mark_t mark, const char *key, const char *where)
{
    return cfg__fail(d, mark, "missing required key \"%s\" %s", key, where);
}

/* ---- parsing ------------------------------------------------------------------------ */

/* Byte offset → 1-based line and column (in characters), for libyaml's reader errors. */
static void offset_position(const char *src, size_t len, size_t offset, size_t *line,
                            size_t *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (src[i] == '\n') {
            ++*line;
            *column = 1;
        } else if (((unsigned char)src[i] & 0xc0) != 0x80) {
            ++*column;
        }
    }
}

/* True when the character at the (0-based) line and column is a tab. */
static bool tab_at(const char *src, size_t len, size_t line, size_t column)
{
    size_t i = 0;

    for (; i < len && line; i++)
        if (src[i] == '\n')
            line--;
    /* Step over `column` characters: a UTF-8 lead byte and its continuation bytes. */
    for (; i < len && column && src[i] != '\n'; column--)
        do
            i++;
        while (i < len && ((unsigned char)src[i] & 0xc0) == 0x80);
    return i < len && src[i] == '\t';
}

static void syntax_error(cfg_doc *d, const yaml_parser_t *parser)
{
    size_t line = parser->problem_mark.line + 1, column = parser->problem_mark.column + 1;
    const char *problem = parser->problem ? parser->problem : "invalid YAML";

    switch (parser->error) {
    case YAML_MEMORY_ERROR:
        cfg__set_error(d->err, d->errlen, "%s: out of memory", d->name);
        return;
    case YAML_READER_ERROR:
        offset_position(d->src, d->src_len, parser->problem_offset, &line, &column);
        cfg__set_error(d->err, d->errlen, "%s:%zu:%zu: %s", d->name, line, column, problem);
        return;
    default:
        cfg__set_error(
            d->err, d->errlen, "%s:%zu:%zu: %s%s%s%s", d->name, line, column, problem,
            parser->context ? " " : "", parser->context ? parser->context : "",
            tab_at(d->src, d->src_len, parser->problem_mark.line, parser->problem_mark.column)
                ? " (a tab: YAML indents with spaces only)"
                : "");
        return;
    }
}

/* A streaming pass over the events that refuses absurd nesting before the loader sees it. */
CFG_MUST_CHECK static bool check_depth(cfg_doc *d)
{
    yaml_parser_t parser;
    yaml_event_t event;
    unsigned depth = 0;
    bool done = false, ok = true;

    if (!yaml_parser_initialize(&parser)) {
        cfg__set_error(d->err, d->errlen, "%s: out of memory", d->name);
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)d->src, d->src_len);
    while (ok && !done) {
        if (!yaml_parser_parse(&parser, &event)) {
            syntax_error(d, &parser);
            ok = false;
            break;
        }
        if (event.type == YAML_SEQUENCE_START_EVENT || event.type == YAML_MAPPING_START_EVENT) {
            if (++depth > MAX_DEPTH) {
                cfg__set_error(d->err, d->errlen,
                               "%s:%zu:%zu: nested more than %d levels deep (the configuration "
                               "needs 5)",
                               d->name, event.start_mark.line + 1, event.start_mark.column + 1,
                               MAX_DEPTH);
                ok = false;
            }
        } else if (event.type == YAML_SEQUENCE_END_EVENT || event.type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    return ok;
}

/* Parses the whole stream: exactly one document, or an error. */
CFG_MUST_CHECK bool cfg__doc_parse(cfg_doc *d)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    bool ok = false;

    if (!check_depth(d))
        return false;
    if (!yaml_parser_initialize(&parser)) {
        cfg__set_error(d->err, d->errlen, "%s: out of memory", d->name);
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)d->src, d->src_len);
    if (!yaml_parser_load(&parser, &d->tree)) {
        syntax_error(d, &parser);
        goto out;
    }
    if (!yaml_document_get_root_node(&d->tree)) {
        cfg__set_error(d->err, d->errlen,
                       "%s:1:1: the configuration is empty (expected a mapping of settings)",
                       d->name);
        goto delete_doc;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_error(d, &parser);
        goto delete_doc;
    }
    if (yaml_document_get_root_node(&extra)) {
        cfg__set_error(d->err, d->errlen,
                       "%s:%zu:%zu: a second YAML document starts here; the configuration must be "
                       "one document",
                       d->name, extra.start_mark.line + 1, extra.start_mark.column + 1);
        yaml_document_delete(&extra);
        goto delete_doc;
    }
    yaml_document_delete(&extra);
    ok = true;
    goto out;
delete_doc:
    yaml_document_delete(&d->tree);
out:
    yaml_parser_delete(&parser);
    return ok;
}

void cfg__doc_clear(cfg_doc *d)
{
    yaml_document_delete(&d->tree);
}
