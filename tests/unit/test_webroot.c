/* test_webroot.c — unit tests of webroot.c against a real directory tree: files and index.html
 * beneath the root are opened, symbolic links that stay inside it are followed, and nothing a
 * link, "..", a backslash or a FIFO could lead to outside the root is ever opened; both with
 * openat2 (the kernel's RESOLVE_BENEATH) and with the realpath fallback. Links webroot.c only. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "webroot.h"

static char tmp_root[] = "/tmp/test_webroot.XXXXXX";

static void make_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_root, rel);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_root, rel);
    if (mkdir(path, 0755) != 0)
        perror(path);
}

static void make_link(const char *target, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_root, rel);
    if (symlink(target, path) != 0)
        perror(path);
}

/* The content of the file path opens to ("" and errno kept when it does not open). */
static const char *served(const webroot *w, const char *path)
{
    static char buf[256];
    struct stat st;
    bool index;
    buf[0] = '\0';
    int fd = webroot_open_file(w, path, &st, &index);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return buf;
}

/*
 * tmp/
 *   secret.txt                  outside the root
 *   outside/file.txt            outside the root
 *   site/                       the root (given to webroot_new as "link-to-site")
 *     index.html, js/app.js, sub/index.html, empty-dir/
 *     same.js -> js/app.js                      relative, stays inside
 *     up-and-in.js -> ../site/js/app.js         relative, leaves and comes back: outside for a moment
 *     abs-in.js -> TMP/site/js/app.js           absolute, points inside
 *     to-root -> /                              the whole file system
 *     to-secret -> ../secret.txt                relative, outside
 *     to-outside -> ../outside                  a directory outside
 *     pipe                                      a FIFO: would block a reader
 *   link-to-site -> site
 */
static void build_tree(void)
{
    make_file("secret.txt", "secret");
    make_dir("outside");
    make_file("outside/file.txt", "outside");
    make_dir("site");
    make_file("site/index.html", "index");
    make_dir("site/js");
    make_file("site/js/app.js", "app");
    make_dir("site/sub");
    make_file("site/sub/index.html", "sub index");
    make_dir("site/empty-dir");
    make_link("js/app.js", "site/same.js");
    make_link("../site/js/app.js", "site/up-and-in.js");
    char abs[512];
    snprintf(abs, sizeof abs, "%s/site/js/app.js", tmp_root);
    make_link(abs, "site/abs-in.js");
    make_link("/", "site/to-root");
    make_link("../secret.txt", "site/to-secret");
    make_link("../outside", "site/to-outside");
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/site/pipe", tmp_root);
    if (mkfifo(fifo, 0644) != 0)
        perror(fifo);
    make_link("site", "link-to-site");
}

static webroot *open_root(webroot_mode mode)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/link-to-site", tmp_root);
    webroot *w = webroot_new(dir, mode);
    CHECK(w != NULL);
    return w;
}

static void check_files_beneath_the_root_are_served(webroot_mode mode)
{
    webroot *w = open_root(mode);
    CHECK_STR(served(w, "/"), "index");
    CHECK_STR(served(w, ""), "index");
    CHECK_STR(served(w, "/index.html"), "index");
    CHECK_STR(served(w, "/js/app.js"), "app");
    CHECK_STR(served(w, "//js//app.js"), "app");
    CHECK_STR(served(w, "/sub"), "sub index");
    CHECK_STR(served(w, "/sub/"), "sub index");
    struct stat st;
    bool index = false;
    int fd = webroot_open_file(w, "/sub", &st, &index);
    CHECK(fd >= 0 && index && S_ISREG(st.st_mode) && st.st_size == 9);
    close(fd);
    fd = webroot_open_file(w, "/js/app.js", &st, &index);
    CHECK(fd >= 0 && !index);
    close(fd);
    CHECK_STR(served(w, "/same.js"), "app"); /* a relative link inside the root */
    CHECK_STR(served(w, "/missing.js"), "");
    CHECK_STR(served(w, "/empty-dir"), ""); /* a directory without index.html */
    webroot_free(w);
}

static void check_nothing_outside_the_root_is_served(webroot_mode mode)
{
    webroot *w = open_root(mode);
    CHECK_STR(served(w, "/to-root/etc/passwd"), "");
    CHECK_STR(served(w, "/to-root/etc/hostname"), "");
    CHECK_STR(served(w, "/to-root"), "");
    CHECK_STR(served(w, "/to-secret"), "");
    CHECK_STR(served(w, "/to-outside/file.txt"), "");
    CHECK_STR(served(w, "/../secret.txt"), "");
    CHECK_STR(served(w, "/js/../../secret.txt"), "");
    CHECK_STR(served(w, "/..\\secret.txt"), "");
    CHECK_STR(served(w, "/pipe"), ""); /* and it did not block */
    webroot_free(w);
}

/* Links that leave the root and come back into it (an absolute link to a file inside, a
 * relative one through ".."): the kernel resolves beneath the root's descriptor and refuses
 * them; the fallback looks at where they end up, inside (documented in webroot.h). */
static void check_links_back_into_the_root(webroot_mode mode, const char *expected)
{
    check_files_beneath_the_root_are_served(mode);
    check_nothing_outside_the_root_is_served(mode);
    webroot *w = open_root(mode);
    CHECK_STR(served(w, "/abs-in.js"), expected);
    CHECK_STR(served(w, "/up-and-in.js"), expected);
    webroot_free(w);
}

static void test_openat2_serves_beneath_the_root_only(void)
{
    check_links_back_into_the_root(WEBROOT_AUTO, "");
}

static void test_realpath_fallback_serves_beneath_the_root_only(void)
{
    check_links_back_into_the_root(WEBROOT_REALPATH, "app");
}

static void test_a_root_that_is_not_a_directory_is_refused(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/secret.txt", tmp_root);
    CHECK(webroot_new(path, WEBROOT_AUTO) == NULL);
    snprintf(path, sizeof path, "%s/no-such-dir", tmp_root);
    CHECK(webroot_new(path, WEBROOT_AUTO) == NULL);
    CHECK(errno == ENOENT);
}

int main(void)
{
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    alarm(30); /* a FIFO opened for reading would block: fail instead of hanging */
    build_tree();
    TEST(test_openat2_serves_beneath_the_root_only);
    TEST(test_realpath_fallback_serves_beneath_the_root_only);
    TEST(test_a_root_that_is_not_a_directory_is_refused);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
    return check_summary();
}
