/* demo.c — the demo programme of the README: 书记论坛, its panel, one session open for
 * pre-show questions and three questions as the studio received them. See demo.h. */
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "dispatch.h"
#include "log.h"

static void random_bytes(void *buf, size_t n)
{
    auth_random_bytes(buf, n);
}

/* Applies one command at start-up and appends its events to *all. Returns the ack (caller
 * frees) or NULL after printing why. */
static cJSON *seed(forum_state *st, const forum_actor *a, forum_command *cmd, forum_event **all,
                   size_t *n_all)
{
    forum_env env = {dispatch_now_ms(), random_bytes};
    forum_result r = forum_apply(st, a, cmd, &env);
    forum_command_free(cmd);
    memset(cmd, 0, sizeof *cmd);
    if (r.err != FORUM_OK) {
        log_error("demo data: %s", r.message);
        forum_result_free(&r);
        return NULL;
    }
    forum_event *grown = realloc(*all, (*n_all + r.n_events) * sizeof *grown);
    if (!grown) {
        forum_result_free(&r);
        return NULL;
    }
    *all = grown;
    memcpy(*all + *n_all, r.events, r.n_events * sizeof *grown);
    *n_all += r.n_events;
    free(r.events);
    r.events = NULL;
    r.n_events = 0;
    cJSON *ack = forum_result_ack_json(&r);
    forum_result_free(&r);
    return ack;
}

static char **strv(const char *const *items, size_t n)
{
    char **v = calloc(n, sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        v[i] = strdup(items[i]);
    return v;
}

int demo_create(forum_state *st, store *s, const char *base_url)
{
    forum_actor producer;
    memset(&producer, 0, sizeof producer);
    producer.role = FORUM_ROLE_PRODUCER;
    forum_event *all = NULL;
    size_t n_all = 0;
    int rc = -1;
    cJSON *ack = NULL;
    forum_command cmd;

    memset(&cmd, 0, sizeof cmd);
    cmd.type = FORUM_CMD_PROGRAM_CREATE;
    cmd.title = strdup("书记论坛");
    cmd.description = strdup("菊园新区“我嘉直播间”：书记、代表委员、专家和居民一起“开麦发声”，"
                             "聚焦社区治理的真问题。");
    if (!(ack = seed(st, &producer, &cmd, &all, &n_all)))
        goto done;
    int64_t program_id = (int64_t)cJSON_GetNumberValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(ack, "program"), "id"));
    cJSON_Delete(ack);

    /* clang-format off */
    static const forum_panelist_in panel[] = {
        {"邵洁", "嘉莱社区党支部书记", "书记"},
        {"罗晓华", "嘉筱社区党支部书记", "书记"},
        {"薄燕飞", "菊园新区管委会社区自治办", "负责人"},
        {"石沂波", "嘉定区政协委员", "委员"},
        {"徐晓峰", "上海江南建筑设计院综合五所", "专家"},
    };
    /* clang-format on */
    static const char *const segments[] = {"社区微改造：钱从哪里来", "新租客如何融入社区",
                                           "居民点评台"};
    memset(&cmd, 0, sizeof cmd);
    cmd.type = FORUM_CMD_SESSION_CREATE;
    cmd.program_id = program_id;
    cmd.title = strdup("第四期：美好社区共建");
    cmd.has_topic = true;
    cmd.topic = strdup("社区微更新、微改造中如何听民意、解难题");
    cmd.has_premoderation = true;
    cmd.premoderation = true;
    cmd.has_anonymous_allowed = true;
    cmd.anonymous_allowed = true;
    cmd.has_scheduled_at = true;
    cmd.scheduled_at = dispatch_now_ms() + 7 * 24 * 3600 * 1000LL;
    cmd.has_panelists = true;
    cmd.n_panelists = sizeof panel / sizeof panel[0];
    cmd.panelists = calloc(cmd.n_panelists, sizeof *cmd.panelists);
    for (size_t i = 0; cmd.panelists && i < cmd.n_panelists; i++) {
        cmd.panelists[i].name = strdup(panel[i].name);
        cmd.panelists[i].affiliation = strdup(panel[i].affiliation);
        cmd.panelists[i].role = strdup(panel[i].role);
    }
    cmd.has_segments = true;
    cmd.n_segments = 3;
    cmd.segments = strv(segments, 3);
    cmd.has_blocked_words = true;
    static const char *const blocked[] = {"广告", "代开发票"};
    cmd.n_blocked_words = 2;
    cmd.blocked_words = strv(blocked, 2);
    if (!(ack = seed(st, &producer, &cmd, &all, &n_all)))
        goto done;
    cJSON *session = cJSON_GetObjectItem(ack, "session");
    char code[FORUM_CODE_MAX], key[128];
    snprintf(code, sizeof code, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(session, "code")));
    snprintf(key, sizeof key, "%s",
             cJSON_GetStringValue(cJSON_GetObjectItem(ack, "moderator_key")));
    cJSON_Delete(ack);

    memset(&cmd, 0, sizeof cmd);
    cmd.type = FORUM_CMD_SESSION_OPEN;
    cmd.session = strdup(code);
    if (!(ack = seed(st, &producer, &cmd, &all, &n_all)))
        goto done;
    cJSON_Delete(ack);

    /* Pre-show questions as the studio received them: by phone, on paper, on a visit. */
    static const struct {
        const char *text, *author;
        forum_source source;
        forum_category category;
        int64_t to;
    } asks[] = {
        {"小区中心广场荒废了很可惜，微改造能不能先把广场改成大家能坐下来聊天的地方？", "星怡苑居民",
         FORUM_SRC_VISIT, FORUM_CAT_NEED, 1},
        {"地砖太滑，下雨天老人根本不敢走，什么时候能换？", NULL, FORUM_SRC_PHONE,
         FORUM_CAT_QUESTION, 3},
        {"建议社区安排一名责任社工对接租客，建楼组微信群，让新租客感受到社区的温暖。", "顾本彬",
         FORUM_SRC_PAPER, FORUM_CAT_SUGGESTION, 2},
    };
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        memset(&cmd, 0, sizeof cmd);
        cmd.type = FORUM_CMD_QUESTION_SUBMIT;
        cmd.session = strdup(code);
        cmd.text = strdup(asks[i].text);
        cmd.author = asks[i].author ? strdup(asks[i].author) : NULL;
        cmd.has_source = true;
        cmd.source = asks[i].source;
        cmd.has_category = true;
        cmd.category = asks[i].category;
        cmd.has_to = true;
        cmd.to = asks[i].to;
        if (!(ack = seed(st, &producer, &cmd, &all, &n_all)))
            goto done;
        cJSON_Delete(ack);
    }

    if (store_append_sync(s, all, n_all) != 0) {
        log_error("could not save the demo programme");
        goto done;
    }
    printf("demo programme: 书记论坛 — 第四期：美好社区共建 (open for pre-show questions)\n");
    printf("join code: %s\n", code);
    printf("viewer page:    %s/s/%s\n", base_url, code);
    printf("moderator page: %s/m/%s#key=%s\n", base_url, code, key);
    printf(
        "  (the demo session's moderator key is in this link, printed this once; rotate it from\n"
        "  the producer page if it leaks)\n");
    printf("overlay (OBS):  %s/overlay/%s\n", base_url, code);
    rc = 0;
done:
    for (size_t i = 0; i < n_all; i++)
        forum_event_clear(&all[i]);
    free(all);
    return rc;
}
