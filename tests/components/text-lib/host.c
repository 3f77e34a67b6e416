/* A C host written against the readable names of tx.h, the header weld generates for the
 * `text-lib` world of text.wit (compiled with --name tx). It calls every export of the
 * interface `example:text/transform` (records, variants, enums, flags, options, results and
 * the resource `builder`) and implements the world's `log` import; it prints what it gets, and
 * compiler/tests/readable_header.rs compares that with a Rust computation. */
#include <stdio.h>
#include <string.h>

#include "tx.h"

static tx_string_t str(const char *s) {
  tx_string_t r = {(uint8_t *)s, strlen(s)};
  return r;
}

static uint32_t host_log(void *ctx, const tx_string_t *msg) {
  (void)ctx;
  printf("[log] %.*s\n", (int)msg->len, (const char *)msg->ptr);
  return WELD_OK;
}

static const char *class_name(tx_example_text_transform_char_class_t c) {
  switch (c) {
  case TX_EXAMPLE_TEXT_TRANSFORM_CHAR_CLASS_LETTER:
    return "letter";
  case TX_EXAMPLE_TEXT_TRANSFORM_CHAR_CLASS_DIGIT:
    return "digit";
  case TX_EXAMPLE_TEXT_TRANSFORM_CHAR_CLASS_SPACE:
    return "space";
  case TX_EXAMPLE_TEXT_TRANSFORM_CHAR_CLASS_OTHER:
    return "other";
  }
  return "?";
}

static int failed;

static int ok(const char *what, uint32_t trap) {
  if (trap != WELD_OK) {
    printf("%s: trap: %s\n", what, weld_trap_message(trap));
    failed = 1;
    return 0;
  }
  return 1;
}

static void print_span(weld_component *inst, const char *s) {
  tx_string_t in = str(s);
  tx_option_span_t span;
  if (!ok("first-span", tx_example_text_transform_first_span(inst, &in, &span)))
    return;
  if (span.is_some)
    printf("first-span(\"%s\") = some {start: %u, len: %u, class: %s}\n", s, span.val.start,
           span.val.len, class_name(span.val.class_));
  else
    printf("first-span(\"%s\") = none\n", s);
}

static void print_token(weld_component *inst, const char *s) {
  tx_string_t in = str(s);
  tx_example_text_transform_token_t t;
  if (!ok("token-of", tx_example_text_transform_token_of(inst, &in, &t)))
    return;
  switch (t.tag) {
  case TX_EXAMPLE_TEXT_TRANSFORM_TOKEN_WORD:
    printf("token-of(\"%s\") = word %.*s\n", s, (int)t.val.word.len, (const char *)t.val.word.ptr);
    break;
  case TX_EXAMPLE_TEXT_TRANSFORM_TOKEN_NUMBER:
    printf("token-of(\"%s\") = number %llu\n", s, (unsigned long long)t.val.number);
    break;
  case TX_EXAMPLE_TEXT_TRANSFORM_TOKEN_BLANK:
    printf("token-of(\"%s\") = blank\n", s);
    break;
  }
  tx_example_text_transform_token_free(&t);
}

static void print_digit(weld_component *inst, const char *s) {
  tx_string_t in = str(s);
  tx_result_u8_string_t r;
  if (!ok("parse-digit", tx_example_text_transform_parse_digit(inst, &in, &r)))
    return;
  if (r.is_err)
    printf("parse-digit(\"%s\") = err %.*s\n", s, (int)r.val.err.len, (const char *)r.val.err.ptr);
  else
    printf("parse-digit(\"%s\") = ok %u\n", s, r.val.ok);
  tx_result_u8_string_free(&r);
}

static void print_builder(weld_component *inst, const char *what,
                          tx_example_text_transform_own_builder_t b) {
  uint32_t len = 0;
  tx_string_t text;
  if (ok("length", tx_example_text_transform_method_builder_length(inst, b, &len)) &&
      ok("finish", tx_example_text_transform_method_builder_finish(inst, b, &text))) {
    printf("%s: length %u, text \"%.*s\"\n", what, len, (int)text.len, (const char *)text.ptr);
    tx_string_free(&text);
  }
}

int main(void) {
  weld_component_import imports[] = {tx_import_log(host_log, NULL)};
  weld_component *inst = tx__instantiate(imports, 1);
  if (inst == NULL) {
    fprintf(stderr, "cannot instantiate: %s\n", weld_last_error());
    return 1;
  }

  tx_string_t hello = str("Hello, wit");
  tx_string_t up;
  if (ok("upper", tx_example_text_transform_upper(inst, &hello, &up))) {
    printf("upper = %.*s\n", (int)up.len, (const char *)up.ptr);
    tx_string_free(&up);
  }

  printf("classify =");
  const uint32_t chars[] = {'A', '7', ' ', '?'};
  for (size_t i = 0; i < 4; i++) {
    tx_example_text_transform_char_class_t c;
    if (ok("classify", tx_example_text_transform_classify(inst, chars[i], &c)))
      printf(" %s", class_name(c));
  }
  printf("\n");

  print_span(inst, "abc12");
  print_span(inst, "");
  print_token(inst, "");
  print_token(inst, "2026");
  print_token(inst, "wit");
  print_digit(inst, "7");
  print_digit(inst, "x");

  tx_example_text_transform_style_t style =
      TX_EXAMPLE_TEXT_TRANSFORM_STYLE_BOLD | TX_EXAMPLE_TEXT_TRANSFORM_STYLE_UNDERLINE;
  uint32_t n = 0;
  if (ok("count-styles", tx_example_text_transform_count_styles(inst, style, &n)))
    printf("count-styles(bold|underline) = %u\n", n);

  tx_string_t ab = str("ab"), cd = str("cd"), x = str("x"), yz = str("yz");
  tx_example_text_transform_own_builder_t b;
  if (ok("constructor", tx_example_text_transform_constructor_builder(inst, &ab, &b))) {
    ok("append", tx_example_text_transform_method_builder_append(inst, b, &cd));
    print_builder(inst, "builder(\"ab\").append(\"cd\")", b);
  }
  tx_example_text_transform_own_builder_t parts;
  if (ok("from-parts", tx_example_text_transform_static_builder_from_parts(inst, &x, &yz, &parts)))
    print_builder(inst, "builder.from-parts(\"x\", \"yz\")", parts);

  tx__free(inst);
  return failed;
}
