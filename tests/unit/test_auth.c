/* test_auth.c — unit tests of server/core/auth.c (hashing, constant-time key match, viewer ids,
 * random keys, token-bucket rate limits) and server/core/utf8.c (strict validation, code-point
 * counting, trimming, control characters, case-insensitive search). */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "check.h"
#include "utf8.h"

static bool valid(const char *s)
{
    return utf8_valid(s, strlen(s));
}

/* ---------------------------------------------------------------- hashing and keys */

static void test_sha256_known_vectors(void)
{
    char hex[65];
    auth_sha256_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    auth_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    auth_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* bytes, not a C string: an embedded NUL counts */
    char with_nul[65];
    auth_sha256_hex("a\0b", 3, with_nul);
    auth_sha256_hex("a", 1, hex);
    CHECK(strcmp(hex, with_nul) != 0);
}

static void test_key_matches_its_hash_only(void)
{
    const char *hash = "fbc402f003c1454081cbc7d9d1a090c2fdd74ffa6f16e50b3f467fcb8bb27352";
    CHECK(auth_key_matches("producer-secret", hash));
    CHECK(!auth_key_matches("producer-secreT", hash));
    CHECK(!auth_key_matches("producer-secret ", hash));
    CHECK(!auth_key_matches("", hash));
    CHECK(!auth_key_matches(NULL, hash));
    CHECK(!auth_key_matches("producer-secret", NULL));
    CHECK(!auth_key_matches("producer-secret", "fbc402f0"));
    /* uppercase hex is not what we store */
    CHECK(!auth_key_matches("producer-secret",
                            "FBC402F003C1454081CBC7D9D1A090C2FDD74FFA6F16E50B3F467FCB8BB27352"));
}

static void test_viewer_id_format_and_stability(void)
{
    char a[18], b[18], c[18];
    auth_viewer_id("0123456789abcdef0123456789abcdef", a);
    auth_viewer_id("0123456789abcdef0123456789abcdef", b);
    auth_viewer_id("abcdefghijklmnopqrstuv", c);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    /* "v" + the first 8 bytes of SHA-256("forum viewer id\n" + token), in hex */
    CHECK_STR(a, "v0837dcd693d0f076");
    CHECK_STR(c, "v801482b08e5aecdd");
    CHECK(strlen(a) == 17 && a[0] == 'v');
    for (int i = 1; i < 17; i++)
        CHECK((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
    /* the id is not the plain hash of the token */
    char plain[65];
    auth_sha256_hex("0123456789abcdef0123456789abcdef", 32, plain);
    CHECK(strncmp(plain, a + 1, 16) != 0);
}

static void test_random_keys(void)
{
    char k1[33], k2[33];
    auth_random_key(k1, 32);
    auth_random_key(k2, 32);
    CHECK(strlen(k1) == 32 && strlen(k2) == 32);
    CHECK(strcmp(k1, k2) != 0);
    for (int i = 0; i < 32; i++)
        CHECK((k1[i] >= 'A' && k1[i] <= 'Z') || (k1[i] >= 'a' && k1[i] <= 'z') ||
              (k1[i] >= '0' && k1[i] <= '9'));
    unsigned char zero[16] = {0}, buf[16] = {0};
    auth_random_bytes(buf, sizeof buf);
    CHECK(memcmp(buf, zero, sizeof buf) != 0);
}

/* ---------------------------------------------------------------- rate limits */

static void test_bucket_allows_a_burst_then_refuses(void)
{
    auth_bucket b = {0};
    int64_t now = 1700000000000LL;
    for (int i = 0; i < 6; i++)
        CHECK(auth_bucket_take(&b, 6, 6.0 / 60.0, now) == 0);
    int64_t retry = auth_bucket_take(&b, 6, 6.0 / 60.0, now);
    /* one token every 10 s */
    CHECK(retry >= 9999 && retry <= 10001);
}

static void test_bucket_refills_over_time(void)
{
    auth_bucket b = {0};
    int64_t now = 1700000000000LL;
    for (int i = 0; i < 6; i++)
        CHECK(auth_bucket_take(&b, 6, 0.1, now) == 0);
    CHECK(auth_bucket_take(&b, 6, 0.1, now + 5000) > 0);
    /* half a token after 5 s: about 5 s left */
    int64_t retry = auth_bucket_take(&b, 6, 0.1, now + 5000);
    CHECK(retry >= 4999 && retry <= 5001);
    CHECK(auth_bucket_take(&b, 6, 0.1, now + 10000) == 0);
    CHECK(auth_bucket_take(&b, 6, 0.1, now + 10000) > 0);
    /* refill is capped at the capacity */
    for (int i = 0; i < 6; i++)
        CHECK(auth_bucket_take(&b, 6, 0.1, now + 10000000) == 0);
    CHECK(auth_bucket_take(&b, 6, 0.1, now + 10000000) > 0);
}

static void test_bucket_ignores_clock_going_back(void)
{
    auth_bucket b = {0};
    int64_t now = 1700000000000LL;
    CHECK(auth_bucket_take(&b, 1, 10, now) == 0);
    int64_t retry = auth_bucket_take(&b, 1, 10, now - 60000);
    CHECK(retry >= 99 && retry <= 101);
    CHECK(auth_bucket_take(&b, 1, 10, now + 100) == 0);
}

static void test_vote_bucket_ten_per_second(void)
{
    auth_bucket b = {0};
    int64_t now = 1000;
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += auth_bucket_take(&b, 10, 10, now) == 0;
    CHECK(ok == 10);
    CHECK(auth_bucket_take(&b, 10, 10, now + 100) == 0);
}

/* ---------------------------------------------------------------- utf8 */

static void test_utf8_valid_accepts_well_formed_text(void)
{
    CHECK(valid(""));
    CHECK(valid("plain ASCII"));
    CHECK(valid("你好，世界"));
    CHECK(valid("\xc2\x80"));          /* U+0080, smallest 2-byte */
    CHECK(valid("\xe0\xa0\x80"));      /* U+0800, smallest 3-byte */
    CHECK(valid("\xed\x9f\xbf"));      /* U+D7FF, just below the surrogates */
    CHECK(valid("\xee\x80\x80"));      /* U+E000, just above */
    CHECK(valid("\xf0\x9f\x98\x80"));  /* U+1F600, 4-byte */
    CHECK(valid("\xf4\x8f\xbf\xbf"));  /* U+10FFFF */
    CHECK(utf8_valid("a\0b", 3));      /* NUL is a valid code point */
}

static void test_utf8_valid_rejects_overlongs(void)
{
    CHECK(!valid("\xc0\xaf"));
    CHECK(!valid("\xc1\xbf"));
    CHECK(!valid("\xe0\x80\xaf"));
    CHECK(!valid("\xe0\x9f\xbf"));
    CHECK(!valid("\xf0\x80\x80\xaf"));
    CHECK(!valid("\xf0\x8f\xbf\xbf"));
}

static void test_utf8_valid_rejects_surrogates_and_out_of_range(void)
{
    CHECK(!valid("\xed\xa0\x80")); /* U+D800 */
    CHECK(!valid("\xed\xbf\xbf")); /* U+DFFF */
    CHECK(!valid("\xf4\x90\x80\x80")); /* U+110000 */
    CHECK(!valid("\xf5\x80\x80\x80"));
    CHECK(!valid("\xff"));
    CHECK(!valid("\xfe"));
}

static void test_utf8_valid_rejects_truncated_and_stray_bytes(void)
{
    CHECK(!valid("\xe4\xbd"));             /* 你 cut short */
    CHECK(!valid("\xf0\x9f\x98"));         /* emoji cut short */
    CHECK(!valid("abc\xc2"));
    CHECK(!valid("\x80"));                 /* stray continuation */
    CHECK(!valid("\xe4\x41\xa0"));         /* ASCII inside a sequence */
    /* the length bounds the check, not the NUL */
    CHECK(!utf8_valid("\xe4\xbd\xa0", 2));
    CHECK(utf8_valid("\xe4\xbd\xa0", 3));
}

static void test_utf8_count_counts_code_points(void)
{
    const char *zh = "中华人民共和国";
    CHECK(strlen(zh) == 21);
    CHECK(utf8_count(zh, strlen(zh)) == 7);
    CHECK(utf8_count("abc", 3) == 3);
    CHECK(utf8_count("", 0) == 0);
    CHECK(utf8_count("a你\xf0\x9f\x98\x80", strlen("a你\xf0\x9f\x98\x80")) == 3);
    CHECK(utf8_count("Ünïcödé", strlen("Ünïcödé")) == 7);
}

static void test_utf8_trim(void)
{
    size_t n;
    const char *s = "  \t\n hello world \r\n";
    const char *t = utf8_trim(s, strlen(s), &n);
    CHECK(n == 11 && strncmp(t, "hello world", n) == 0);

    s = "\xe3\x80\x80\xe3\x80\x80你好 \xe3\x80\x80";  /* ideographic spaces around */
    t = utf8_trim(s, strlen(s), &n);
    CHECK(n == 6 && strncmp(t, "你好", n) == 0);
    CHECK(t == s + 6);

    s = " \xe3\x80\x80 \t";
    t = utf8_trim(s, strlen(s), &n);
    CHECK(n == 0);
    t = utf8_trim("", 0, &n);
    CHECK(n == 0);
    /* inner white space is kept */
    s = "a \xe3\x80\x80 b";
    t = utf8_trim(s, strlen(s), &n);
    CHECK(n == strlen(s) && t == s);
    /* a character ending in 0x80 is not mistaken for U+3000 */
    s = "\xe4\xb8\x80"; /* 一 */
    t = utf8_trim(s, strlen(s), &n);
    CHECK(n == 3);
}

static void test_utf8_has_control(void)
{
    const char *s;
    CHECK(!utf8_has_control("plain text", 10));
    s = "line one\nline two\r\n\tindented";
    CHECK(!utf8_has_control(s, strlen(s)));
    CHECK(utf8_has_control("bell\a", 5));
    CHECK(utf8_has_control("esc\x1b[0m", 8));
    CHECK(utf8_has_control("del\x7f", 4));
    CHECK(utf8_has_control("a\0b", 3));
    CHECK(utf8_has_control("\xc2\x85", 2));  /* U+0085 NEL, a C1 control */
    CHECK(utf8_has_control("\xc2\x9f", 2));
    CHECK(!utf8_has_control("\xc2\xa0", 2)); /* no-break space is text */
    s = "中文，没有控制字符";
    CHECK(!utf8_has_control(s, strlen(s)));
    /* U+4E05 contains byte 0x85 but is not a control character */
    s = "\xe4\xb8\x85";
    CHECK(!utf8_has_control(s, strlen(s)));
}

static void test_utf8_contains_nocase(void)
{
    CHECK(utf8_contains_nocase("Buy CHEAP watches", "cheap"));
    CHECK(utf8_contains_nocase("buy cheap watches", "CHEAP"));
    CHECK(!utf8_contains_nocase("buy cheap watches", "expensive"));
    CHECK(utf8_contains_nocase("这是广告，请点击", "广告"));
    CHECK(!utf8_contains_nocase("这是新闻", "广告"));
    CHECK(utf8_contains_nocase("中文Spam混合", "spam"));
    CHECK(!utf8_contains_nocase("anything", ""));
    CHECK(!utf8_contains_nocase("", "x"));
    CHECK(!utf8_contains_nocase("ab", "abc"));
    /* non-ASCII letters compare byte for byte (no Unicode case folding) */
    CHECK(!utf8_contains_nocase("ÄRGER", "ärger"));
}

int main(void)
{
    TEST(test_sha256_known_vectors);
    TEST(test_key_matches_its_hash_only);
    TEST(test_viewer_id_format_and_stability);
    TEST(test_random_keys);
    TEST(test_bucket_allows_a_burst_then_refuses);
    TEST(test_bucket_refills_over_time);
    TEST(test_bucket_ignores_clock_going_back);
    TEST(test_vote_bucket_ten_per_second);
    TEST(test_utf8_valid_accepts_well_formed_text);
    TEST(test_utf8_valid_rejects_overlongs);
    TEST(test_utf8_valid_rejects_surrogates_and_out_of_range);
    TEST(test_utf8_valid_rejects_truncated_and_stray_bytes);
    TEST(test_utf8_count_counts_code_points);
    TEST(test_utf8_trim);
    TEST(test_utf8_has_control);
    TEST(test_utf8_contains_nocase);
    return check_summary();
}
