/* Files in a preopened directory.
 *
 * `files DIR` (DIR: the directory as the program sees it, e.g. /data) expects DIR/input.txt
 * and then: creates DIR/note.txt, writes it, reads it back, stats it, makes DIR/sub, creates
 * and unlinks DIR/sub/tmp.txt, renames DIR/note.txt to DIR/sub/moved.txt and lists both
 * directories (sorted). Afterwards the host sees DIR/sub/moved.txt and no note.txt/tmp.txt.
 *
 * `files escape PATH...` tries to read and to append to each PATH and prints, per PATH,
 * `PATH: read denied|OPENED, write denied|OPENED`: paths outside every preopened directory
 * (`..`, absolute paths elsewhere, symlinks that point outside) must be denied. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures = 0;

static void fail(const char *what, const char *path) {
  printf("FAILED: %s %s: %s\n", what, path, strerror(errno));
  failures++;
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    fail("opendir", dir);
    return;
  }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 64) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], cmp);
  printf("list %s:", dir);
  for (int i = 0; i < n; i++) {
    printf(" %s", names[i]);
    free(names[i]);
  }
  printf("\n");
}

static int work(const char *dir) {
  char p[512], q[512];
  char buf[256];

  snprintf(p, sizeof p, "%s/input.txt", dir);
  FILE *f = fopen(p, "r");
  if (!f) {
    fail("open", p);
  } else {
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    printf("input.txt: %s", buf);
  }

  snprintf(p, sizeof p, "%s/note.txt", dir);
  f = fopen(p, "w");
  if (!f)
    fail("create", p);
  else {
    fputs("weld was here\n", f);
    fclose(f);
  }
  f = fopen(p, "r");
  if (!f)
    fail("reopen", p);
  else {
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    printf("read back: %s", buf);
  }
  struct stat st;
  if (stat(p, &st) != 0)
    fail("stat", p);
  else
    printf("stat: size=%lld regular=%d dir=%d\n", (long long)st.st_size, S_ISREG(st.st_mode) ? 1 : 0,
           S_ISDIR(st.st_mode) ? 1 : 0);

  snprintf(q, sizeof q, "%s/sub", dir);
  if (mkdir(q, 0755) != 0)
    fail("mkdir", q);
  if (stat(q, &st) != 0)
    fail("stat", q);
  else
    printf("stat sub: dir=%d\n", S_ISDIR(st.st_mode) ? 1 : 0);

  snprintf(q, sizeof q, "%s/sub/tmp.txt", dir);
  int fd = open(q, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    fail("create", q);
  else {
    if (write(fd, "temporary\n", 10) != 10)
      fail("write", q);
    close(fd);
  }
  if (unlink(q) != 0)
    fail("unlink", q);
  else
    printf("unlink: %s\n", stat(q, &st) != 0 && errno == ENOENT ? "gone" : "STILL THERE");

  snprintf(q, sizeof q, "%s/sub/moved.txt", dir);
  if (rename(p, q) != 0)
    fail("rename", p);
  else
    printf("rename: old %s, new %s\n", stat(p, &st) != 0 ? "gone" : "STILL THERE",
           stat(q, &st) == 0 && st.st_size == 14 ? "present" : "MISSING");

  list(dir);
  snprintf(q, sizeof q, "%s/sub", dir);
  list(q);
  return failures ? 1 : 0;
}

static void escape(const char *path) {
  int r = open(path, O_RDONLY);
  int read_errno = errno;
  if (r >= 0)
    close(r);
  int w = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
  int write_errno = errno;
  if (w >= 0) {
    if (write(w, "escaped\n", 8) < 0)
      write_errno = errno;
    close(w);
  }
  printf("%s: read %s, write %s\n", path, r >= 0 ? "OPENED" : "denied", w >= 0 ? "OPENED" : "denied");
  fprintf(stderr, "%s: read: %s; write: %s\n", path, r >= 0 ? "ok" : strerror(read_errno),
          w >= 0 ? "ok" : strerror(write_errno));
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "escape") == 0) {
    for (int i = 2; i < argc; i++)
      escape(argv[i]);
    return 0;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: files DIR | files escape PATH...\n");
    return 2;
  }
  return work(argv[1]);
}
