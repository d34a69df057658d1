/* test_stream.c — unit tests of the stream setting's rules (server/core/stream.c): which URLs a
 * producer may set as the show's stream, what a leaked producer key cannot smuggle through one
 * (scripts, markup, other hosts), the host allowlists and the origin a page's CSP names. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stream.h"

static const char *origin_of(const char *url)
{
    static forum_url u;
    return forum_url_parse(url, &u) ? NULL : u.origin;
}

static bool refused(const char *url)
{
    forum_url u;
    return forum_url_parse(url, &u) != NULL;
}

static void test_origins_of_accepted_urls(void)
{
    CHECK_STR(origin_of("https://live.example.com/hls/show.m3u8"), "https://live.example.com");
    CHECK_STR(origin_of("http://192.168.1.20:8080/live/show.m3u8?token=a%20b#t=1"),
              "http://192.168.1.20:8080");
    CHECK_STR(origin_of("https://Player.Bilibili.COM/player.html?bvid=BV1xx411c7mD&page=1"),
              "https://player.bilibili.com");
    CHECK_STR(origin_of("https://cdn.example.com:443/a.m3u8"), "https://cdn.example.com");
    CHECK_STR(origin_of("http://cdn.example.com:80"), "http://cdn.example.com");
    CHECK_STR(origin_of("http://[::1]:8081/x.m3u8"), "http://[::1]:8081");
    CHECK_STR(origin_of("https://www.youtube.com/embed/dQw4w9WgXcQ?start=30"),
              "https://www.youtube.com");
}

/* What an attacker holding the producer key would try: other schemes, markup and quotes that
 * could break out of an attribute or a header, credentials, look-alike hosts. */
static void test_hostile_urls_are_refused(void)
{
    static const char *const bad[] = {
        "",
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x.m3u8",
        "HTTPS://live.example.com/x.m3u8",
        "ftp://live.example.com/x.m3u8",
        "https:/live.example.com/x.m3u8",
        "https://",
        "https://live.example.com/x.m3u8\"><script>alert(1)</script>",
        "https://live.example.com/x.m3u8'onerror='alert(1)",
        "https://live.example.com/<svg/onload=alert(1)>",
        "https://live.example.com/a b.m3u8",
        "https://live.example.com/a\tb",
        "https://live.example.com/a\\b",
        "https://live.example.com/%zz.m3u8",
        "https://live.example.com/%4",
        "https://live.example.com/\xe7\x9b\xb4\xe6\x92\xad.m3u8",
        "https://user:pass@live.example.com/x.m3u8",
        "https://live.example.com@evil.example/x.m3u8",
        "https://live.example.com;default-src */x",
        "https://live.example.com,evil.example/x",
        "https://-live.example.com/x",
        "https://live-.example.com/x",
        "https://live..example.com/x",
        "https://live.example.com./x",
        "https://live.example.com:0/x",
        "https://live.example.com:65536/x",
        "https://live.example.com:8o/x",
        "https://live.example.com:/x",
        "https://[::1/x",
        "https://[not:an:ip]/x",
        "https://exa mple.com/",
        "https://\xe4\xbe\x8b\xe5\xad\x90.cn/x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(refused(bad[i]));
        if (!refused(bad[i]))
            fprintf(stderr, "    accepted: %s\n", bad[i]);
    }
    char *long_url = malloc(FORUM_URL_MAX + 2);
    memcpy(long_url, "https://a.example/", 18);
    memset(long_url + 18, 'a', FORUM_URL_MAX + 1 - 18);
    long_url[FORUM_URL_MAX + 1] = '\0';
    CHECK(refused(long_url));
    long_url[FORUM_URL_MAX] = '\0';
    CHECK(!refused(long_url));
    free(long_url);
}

static void test_host_lists(void)
{
    const char *list = "player.bilibili.com, *.example.com ,[::1]";
    CHECK(forum_host_list_check(list) == NULL);
    CHECK(forum_host_listed(list, "player.bilibili.com"));
    CHECK(forum_host_listed(list, "PLAYER.bilibili.com"));
    CHECK(forum_host_listed(list, "cdn.example.com"));
    CHECK(forum_host_listed(list, "a.b.example.com"));
    CHECK(forum_host_listed(list, "[::1]"));
    CHECK(!forum_host_listed(list, "example.com"));
    CHECK(!forum_host_listed(list, "evilexample.com"));
    CHECK(!forum_host_listed(list, "bilibili.com"));
    CHECK(!forum_host_listed(list, "player.bilibili.com.evil.example"));
    CHECK(!forum_host_listed(list, ""));
    CHECK(forum_host_listed("*", "anything.example"));
    CHECK(!forum_host_listed("", "player.bilibili.com"));
    CHECK(!forum_host_listed(NULL, "player.bilibili.com"));
    CHECK(forum_host_list_check("") == NULL);
    CHECK(forum_host_list_check("  ") == NULL);
    CHECK(forum_host_list_check("a.example,,b.example") != NULL);
    CHECK(forum_host_list_check("https://a.example") != NULL);
    CHECK(forum_host_list_check("*.") != NULL);
    CHECK(forum_host_list_check("a.example b.example") != NULL);
    CHECK(forum_host_list_check("'unsafe-inline'") != NULL);
}

static void test_stream_checks_kind_scheme_and_allowlists(void)
{
    char msg[200];
    const char *any = "*", *players = "player.bilibili.com";
    CHECK(!forum_stream_check(FORUM_STREAM_HLS, "http://10.0.0.5:8080/live/a.m3u8", any, players,
                              msg, sizeof msg));
    CHECK(!forum_stream_check(FORUM_STREAM_EMBED,
                              "https://player.bilibili.com/player.html?bvid=BV1xx411c7mD", any,
                              players, msg, sizeof msg));
    /* an embedded player only from an allowed host, and only over https */
    CHECK(forum_stream_check(FORUM_STREAM_EMBED, "https://evil.example/player.html", any, players,
                             msg, sizeof msg));
    CHECK(strstr(msg, "evil.example") && strstr(msg, "--embed-hosts"));
    CHECK(forum_stream_check(FORUM_STREAM_EMBED, "http://player.bilibili.com/player.html", any,
                             players, msg, sizeof msg));
    CHECK(strstr(msg, "https"));
    /* HLS hosts follow --stream-hosts when it is set */
    CHECK(forum_stream_check(FORUM_STREAM_HLS, "https://other.example/a.m3u8", "live.example.com",
                             players, msg, sizeof msg));
    CHECK(strstr(msg, "--stream-hosts"));
    CHECK(forum_stream_check(FORUM_STREAM_NONE, "https://live.example.com/a.m3u8", any, players,
                             msg, sizeof msg));
    CHECK(forum_stream_check(7, "https://live.example.com/a.m3u8", any, players, msg, sizeof msg));
    CHECK(
        forum_stream_check(FORUM_STREAM_HLS, "javascript:alert(1)", any, players, msg, sizeof msg));
    CHECK(strncmp(msg, "stream.url: ", 12) == 0);
}

int main(void)
{
    TEST(test_origins_of_accepted_urls);
    TEST(test_hostile_urls_are_refused);
    TEST(test_host_lists);
    TEST(test_stream_checks_kind_scheme_and_allowlists);
    return check_summary();
}
