/* Byte-level reading and writing of serialized data (Torch7 .t7, binary or ascii, and
 * the raw payloads of safetensors): a bounds-checked reader over a file or a memory
 * buffer, and a writer into a memory buffer or, atomically, into a file. The object
 * graph (tables, references, classes) is walked in Lua (lua/ember/serialize.lua).
 *
 * Binary layout is little endian whatever the host (int32 ints, int64 longs, IEEE
 * doubles); the ascii layout is Torch7's: one value per line, arrays on one line
 * separated by spaces, Byte/Char payloads as raw bytes. Every read checks the bytes
 * left before it allocates or copies, so hostile counts fail with an error naming the
 * source and byte position instead of allocating. */
#ifndef EMBER_SERIALIZE_H
#define EMBER_SERIALIZE_H

#include <stdint.h>
#include <stdio.h>

#include "dtype.h"

typedef struct em_reader {
  FILE *file;            /* NULL when reading memory */
  const uint8_t *mem;    /* the bytes, when reading memory (not owned) */
  uint64_t size;         /* total bytes */
  uint64_t pos;          /* bytes consumed so far */
  int ascii;             /* Torch7's ascii layout */
  char name[256];        /* source for messages: the path, or "string" */
} em_reader;

typedef struct em_writer {
  FILE *file;            /* the temporary file; NULL for a memory writer */
  char *path;            /* target path (owned), renamed onto at commit */
  char *tmp_path;        /* the temporary file's path (owned) */
  uint8_t *mem;          /* memory writer: the bytes so far (owned) */
  size_t len, cap;
  int ascii;
} em_writer;

/* --- reader --- */
/* Opens path for reading; the reader owns the FILE. */
int em_reader_open_file(em_reader *r, const char *path, int ascii);
/* Reads data[0..size) (borrowed: it must outlive the reader). */
void em_reader_init_mem(em_reader *r, const void *data, uint64_t size, int ascii, const char *name);
/* Closes the file (idempotent). */
void em_reader_close(em_reader *r);
static inline uint64_t em_reader_left(const em_reader *r) { return r->size - r->pos; }
/* Moves to absolute byte position pos (<= size). */
int em_reader_seek(em_reader *r, uint64_t pos);
/* n raw bytes (no ascii handling). */
int em_reader_bytes(em_reader *r, void *dst, uint64_t n);
int em_reader_int(em_reader *r, int32_t *v);
int em_reader_long(em_reader *r, int64_t *v);
/* n int64 values (one line in ascii). */
int em_reader_longs(em_reader *r, int64_t *v, int n);
int em_reader_double(em_reader *r, double *v);
/* The length of a Torch7 string (int32 length, then the bytes: read them with
 * em_reader_bytes), checked against the bytes left. */
int em_reader_string_length(em_reader *r, uint64_t *len);
/* EM_OK when n elements of dt can still be in the input (n * their least size fits
 * in what is left), else an error naming what is read. */
int em_reader_check_count(em_reader *r, em_dtype dt, int64_t n, const char *what);
/* n elements of dt into dst (a storage payload: raw little endian in binary, numbers
 * or raw bytes in ascii). Bool elements are normalised to 0/1. */
int em_reader_elements(em_reader *r, em_dtype dt, void *dst, int64_t n);

/* --- writer --- */
/* Writes to a new temporary file next to path; em_writer_commit renames it onto path. */
int em_writer_open_file(em_writer *w, const char *path, int ascii);
void em_writer_init_mem(em_writer *w, int ascii);
int em_writer_bytes(em_writer *w, const void *p, size_t n);
int em_writer_int(em_writer *w, int32_t v);
int em_writer_long(em_writer *w, int64_t v);
int em_writer_longs(em_writer *w, const int64_t *v, int n);
int em_writer_double(em_writer *w, double v);
int em_writer_string(em_writer *w, const char *s, size_t len);
/* n contiguous elements of dt from src (the payload of a storage). */
int em_writer_elements(em_writer *w, em_dtype dt, const void *src, int64_t n);
/* File writer: flush, fsync, rename onto the target, fsync the directory. Memory
 * writer: nothing. Either way the writer stays valid until em_writer_free. */
int em_writer_commit(em_writer *w);
/* Releases everything; a file writer that was not committed removes its temporary
 * file, so the target is untouched. Idempotent. */
void em_writer_free(em_writer *w);

#endif
