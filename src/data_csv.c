/* Numeric CSV reader: the whole file is read into memory and parsed line by line into
 * a growing array of doubles, then copied into a rows x cols float tensor. Errors name
 * the file, the line and the field ("f.csv:7:3: missing value"). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

#define CPU ((em_device){EM_CPU, 0})
#define CSV_FIELD_MAX 256      /* longest numeric field, quotes removed */
#define CSV_END 1              /* next_line: no more lines */

/* One field of a line: where its text lies in the file (inside the quotes when quoted;
 * spaces around an unquoted field trimmed). */
typedef struct field {
  const char *start;     /* raw bytes in the file */
  size_t len;
  int quoted;
} field;

typedef struct parser {
  const char *path;
  const char *p, *end;   /* unread part of the file */
  long line;             /* 1-based number of the line being parsed */
  char sep;
} parser;

/* Splits the next line into *nfields fields (0 for a blank line) and returns EM_OK;
 * returns CSV_END at the end of the file, or EM_ERR with a message (an unterminated
 * quote). Fields beyond cap are counted but not stored. */
static int next_line(parser *ps, field *fields, int cap, int *nfields) {
  if (ps->p >= ps->end) return CSV_END;
  ps->line++;
  const char *eol = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
  if (!eol) eol = ps->end;
  const char *q = ps->p, *stop = eol;
  if (stop > q && stop[-1] == '\r') stop--;
  ps->p = eol < ps->end ? eol + 1 : ps->end;
  const char *t = q;
  while (t < stop && isspace((unsigned char)*t)) t++;
  if (t == stop) { *nfields = 0; return EM_OK; }
  int n = 0;
  for (;;) {
    while (q < stop && (*q == ' ' || *q == '\t')) q++;
    field f = {q, 0, 0};
    if (q < stop && *q == '"') {
      f.quoted = 1;
      f.start = ++q;
      for (;;) {
        if (q >= stop)
          return em_error("%s:%ld:%d: unterminated quoted field", ps->path, ps->line, n + 1);
        if (*q == '"') {
          if (q + 1 < stop && q[1] == '"') { q += 2; continue; }
          break;
        }
        q++;
      }
      f.len = (size_t)(q - f.start);
      q++;                                             /* the closing quote */
      while (q < stop && (*q == ' ' || *q == '\t')) q++;
      if (q < stop && *q != ps->sep)
        return em_error("%s:%ld:%d: text after a closing quote", ps->path, ps->line, n + 1);
    } else {
      while (q < stop && *q != ps->sep) q++;
      const char *e = q;
      while (e > f.start && (e[-1] == ' ' || e[-1] == '\t')) e--;
      f.len = (size_t)(e - f.start);
    }
    if (n < cap) fields[n] = f;
    n++;
    if (q >= stop) break;
    q++;                                               /* the separator */
  }
  *nfields = n;
  return EM_OK;
}

/* *v := the number in f; 0 when it is empty, 1 on success, -1 when not a number. */
static int parse_number(const field *f, double *v) {
  char buf[CSV_FIELD_MAX + 1];
  size_t len = f->len;
  if (f->quoted) {     /* trim inside the quotes too */
    const char *s = f->start;
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (len == 0) return 0;
    if (len > CSV_FIELD_MAX) return -1;
    memcpy(buf, s, len);
  } else {
    if (len == 0) return 0;
    if (len > CSV_FIELD_MAX) return -1;
    memcpy(buf, f->start, len);
  }
  buf[len] = 0;
  char *end;
  errno = 0;
  *v = strtod(buf, &end);
  return end == buf + len ? 1 : -1;
}

/* A malloc'd copy of a field's text with "" unescaped. */
static char *field_text(const field *f) {
  char *s = malloc(f->len + 1), *o = s;
  if (!s) return NULL;
  for (size_t i = 0; i < f->len; i++) {
    *o++ = f->start[i];
    if (f->quoted && f->start[i] == '"') i++;          /* "" -> " */
  }
  *o = 0;
  return s;
}

void em_csv_header_free(em_csv_header *h) {
  if (!h) return;
  for (int i = 0; i < h->ncols; i++) free(h->names[i]);
  free(h->names);
  h->names = NULL;
  h->ncols = 0;
}

static int keep_header(em_csv_header *h, const field *fields, int n) {
  if (!h) return EM_OK;
  h->names = calloc((size_t)n, sizeof *h->names);
  if (!h->names) return em_error_nomem("readCSV", (unsigned long long)n * sizeof(char *));
  for (int i = 0; i < n; i++) {
    h->names[i] = field_text(&fields[i]);
    h->ncols = i + 1;
    if (!h->names[i]) return em_error_nomem("readCSV", fields[i].len + 1);
  }
  return EM_OK;
}

/* Does any field fail to parse as a number (a header row, when detecting)? */
static int has_text(const field *fields, int n) {
  for (int i = 0; i < n; i++) {
    double v;
    if (parse_number(&fields[i], &v) < 0) return 1;
  }
  return 0;
}

/* Quotes a field for an error message, shortened to fit buf. */
static const char *excerpt(const field *f, char *buf, size_t n) {
  size_t len = f->len < n - 4 ? f->len : n - 4;
  memcpy(buf, f->start, len);
  strcpy(buf + len, f->len > len ? "..." : "");
  return buf;
}

typedef struct growbuf {
  double *v;
  size_t n, cap;
} growbuf;

static int push_row(growbuf *g, const double *row, int n) {
  if (g->n + (size_t)n > g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 4096;
    while (cap < g->n + (size_t)n) cap *= 2;
    double *v = realloc(g->v, cap * sizeof *v);
    if (!v) return em_error_nomem("readCSV", (unsigned long long)cap * sizeof *v);
    g->v = v;
    g->cap = cap;
  }
  memcpy(g->v + g->n, row, (size_t)n * sizeof *row);
  g->n += (size_t)n;
  return EM_OK;
}

/* Parses the rest of the file into g (rows of *ncols numbers) and the header, if any,
 * into h (may be NULL). */
static int parse(parser *ps, const em_csv_options *opt, em_csv_header *h, growbuf *g, int *ncols) {
  int cap = 64, st = EM_OK, expected = -1, nf = 0, first = 1;
  field *fields = malloc((size_t)cap * sizeof *fields);
  double *row = malloc((size_t)cap * sizeof *row);
  for (;;) {
    if (!fields || !row) { st = em_error_nomem("readCSV", (unsigned long long)cap * sizeof *fields); break; }
    const char *line_start = ps->p;
    long line_no = ps->line;
    int r = next_line(ps, fields, cap, &nf);
    if (r == CSV_END) break;
    if (r != EM_OK) { st = r; break; }
    if (nf == 0) continue;
    if (nf > cap) {                                    /* grow and parse the line again */
      cap = nf;
      free(fields);
      free(row);
      fields = malloc((size_t)cap * sizeof *fields);
      row = malloc((size_t)cap * sizeof *row);
      ps->p = line_start;
      ps->line = line_no;
      continue;
    }
    if (expected >= 0 && nf != expected) {
      st = em_error("%s:%ld: ragged row: line %ld has %d fields, expected %d", ps->path, ps->line,
                    ps->line, nf, expected);
      break;
    }
    expected = nf;
    if (first) {
      first = 0;
      if (opt->header == 1 || (opt->header < 0 && has_text(fields, nf))) {
        st = keep_header(h, fields, nf);
        if (st != EM_OK) break;
        continue;
      }
    }
    for (int i = 0; i < nf && st == EM_OK; i++) {
      char buf[48];
      int k = parse_number(&fields[i], &row[i]);
      if (k == 0 && opt->has_fill) row[i] = opt->fill;
      else if (k == 0) st = em_error("%s:%ld:%d: missing value", ps->path, ps->line, i + 1);
      else if (k < 0)
        st = em_error("%s:%ld:%d: not a number: \"%s\"", ps->path, ps->line, i + 1,
                      excerpt(&fields[i], buf, sizeof buf));
    }
    if (st == EM_OK) st = push_row(g, row, nf);
    if (st != EM_OK) break;
  }
  free(fields);
  free(row);
  *ncols = expected < 0 ? 0 : expected;
  return st;
}

int em_csv_read(em_tensor *out, em_context *ctx, const char *path, const em_csv_options *opt,
                em_csv_header *header) {
  if (header) header->ncols = 0, header->names = NULL;
  if (opt->dtype != EM_FLOAT32 && opt->dtype != EM_FLOAT64)
    return em_error("readCSV: dtype must be float32 or float64, got %s", em_dtype_info[opt->dtype].name);
  if (opt->sep == '"' || opt->sep == '\n' || opt->sep == '\r' || opt->sep == 0)
    return em_error("readCSV: invalid separator");
  em_tensor bytes;
  em_tensor_init(&bytes, ctx, EM_UINT8, CPU);
  int st = em_file_read_bytes(&bytes, ctx, path);
  if (st != EM_OK) return st;
  const char *text = em_tensor_data(&bytes);
  parser ps = {path, text, text + em_tensor_numel(&bytes), 0, opt->sep};
  growbuf g = {NULL, 0, 0};
  int ncols = 0;
  st = parse(&ps, opt, header, &g, &ncols);
  em_tensor_release(&bytes);
  if (st == EM_OK) {
    int64_t size[2] = {ncols ? (int64_t)(g.n / (size_t)ncols) : 0, ncols};
    st = em_tensor_empty(out, ctx, opt->dtype, CPU, 2, size);
    if (st == EM_OK && opt->dtype == EM_FLOAT64 && g.n) memcpy(em_tensor_data(out), g.v, g.n * sizeof *g.v);
    else if (st == EM_OK) {
      float *o = em_tensor_data(out);
      for (size_t i = 0; i < g.n; i++) o[i] = (float)g.v[i];
    }
  }
  free(g.v);
  return st;
}
