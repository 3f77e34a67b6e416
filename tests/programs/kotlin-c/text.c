/* The C half of kotlin-c: implements `weld:demo/text` (wit/world.wit, world `c-text`) and calls
 * back into `weld:demo/callback` (implemented by the Kotlin visitor component).
 *
 * The canonical-ABI glue is written by hand (no wit-bindgen CLI on this machine); it follows
 * what `wit-bindgen c` generates: lifted exports named `weld:demo/text#NAME`, a post-return
 * `cabi_post_weld:demo/text#NAME` for every export whose result lives in memory, a static
 * return area for results that do not fit in one core value, and `cabi_realloc` on malloc.
 *
 * Core signatures (wasm32, all i32):
 *   checksum(list<u8>)        -> u32            (ptr, len) -> u32
 *   shout(string)             -> string         (ptr, len) -> retarea {ptr, len}
 *   words(string)             -> list<string>   (ptr, len) -> retarea {ptr, len} of {ptr, len}
 *   walk(list<u32>)           -> list<u32>      (ptr, len) -> retarea {ptr, len}
 *   import callback.visit(u32) -> u32           (n) -> u32
 * Arguments arrive in memory allocated through our cabi_realloc: the callee owns and frees them.
 * No WASI is used, so the component needs no adapter. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))

__attribute__((import_module("weld:demo/callback"), import_name("visit")))
extern uint32_t callback_visit(uint32_t n);

EXPORT("cabi_realloc")
void *cabi_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
  if (new_size == 0) {
    if (ptr && old_size)
      free(ptr);
    return (void *)align; /* a non-null, aligned, empty allocation */
  }
  if (align <= 16)
    return realloc(old_size ? ptr : NULL, new_size);
  void *p = aligned_alloc(align, (new_size + align - 1) / align * align);
  if (p && ptr && old_size) {
    memcpy(p, ptr, old_size < new_size ? old_size : new_size);
    free(ptr);
  }
  return p;
}

/* An argument list/string of length 0 may point anywhere (cabi_realloc returned `align`). */
static void free_arg(void *ptr, size_t len) {
  if (len)
    free(ptr);
}

typedef struct {
  char *ptr;
  size_t len;
} str_t;

/* The return area: {ptr, len} of the result, read by the caller before post-return. */
static struct {
  void *ptr;
  size_t len;
} ret_area;

static void *ret(void *ptr, size_t len) {
  ret_area.ptr = ptr;
  ret_area.len = len;
  return &ret_area;
}

/* Adler-32. */
EXPORT("weld:demo/text#checksum")
uint32_t text_checksum(const uint8_t *data, size_t len) {
  uint32_t a = 1, b = 0;
  for (size_t i = 0; i < len; i++) {
    a = (a + data[i]) % 65521;
    b = (b + a) % 65521;
  }
  free_arg((void *)data, len);
  return (b << 16) | a;
}

EXPORT("weld:demo/text#shout")
void *text_shout(char *s, size_t len) {
  char *out = malloc(len + 1);
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    out[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
  out[len] = '!';
  free_arg(s, len);
  return ret(out, len + 1);
}

EXPORT("cabi_post_weld:demo/text#shout")
void text_shout_post(str_t *r) {
  free(r->ptr);
}

EXPORT("weld:demo/text#words")
void *text_words(char *s, size_t len) {
  size_t count = 0;
  for (size_t i = 0; i < len; i++)
    if (s[i] != ' ' && (i == 0 || s[i - 1] == ' '))
      count++;
  str_t *words = count ? malloc(count * sizeof(str_t)) : (str_t *)4;
  size_t w = 0;
  for (size_t i = 0; i < len;) {
    if (s[i] == ' ') {
      i++;
      continue;
    }
    size_t start = i;
    while (i < len && s[i] != ' ')
      i++;
    words[w].len = i - start;
    words[w].ptr = malloc(i - start);
    memcpy(words[w].ptr, s + start, i - start);
    w++;
  }
  free_arg(s, len);
  return ret(words, count);
}

EXPORT("cabi_post_weld:demo/text#words")
void text_words_post(struct { str_t *ptr; size_t len; } *r) {
  for (size_t i = 0; i < r->len; i++)
    free(r->ptr[i].ptr);
  free_arg(r->ptr, r->len);
}

/* C -> Kotlin: one call of callback.visit per size. */
EXPORT("weld:demo/text#walk")
void *text_walk(uint32_t *sizes, size_t len) {
  uint32_t *out = len ? malloc(len * sizeof(uint32_t)) : (uint32_t *)4;
  for (size_t i = 0; i < len; i++)
    out[i] = callback_visit(sizes[i]);
  free_arg(sizes, len);
  return ret(out, len);
}

EXPORT("cabi_post_weld:demo/text#walk")
void text_walk_post(struct { uint32_t *ptr; size_t len; } *r) {
  free_arg(r->ptr, r->len);
}
