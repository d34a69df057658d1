/* export.c — session exports and search answers for producers (see export.h). Owns the
 * rendering of the minutes (transcript.md), the spreadsheet export (questions.csv), the
 * transcript document (transcript.json), and the translation of search requests into store
 * queries. Derived facts (when a question first went on air, in which segment, whether it was
 * ever published, the peak audience) come from the session's events, in order. */
#include "export.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"
#include "proto.h"

/* ------------------------------------------------------------------------------------------ */
/* transcript.json                                                                            */

static cJSON *producer_snapshot(const forum_state *st, const char *code)
{
    forum_actor producer;
    memset(&producer, 0, sizeof producer);
    producer.role = FORUM_ROLE_PRODUCER;
    snprintf(producer.session, sizeof producer.session, "%s", code);
    cJSON *snap = forum_snapshot(st, &producer, code);
    if (snap)
        cJSON_AddNumberToObject(snap, "peak_viewers", (double)forum_peak_viewers(st, code));
    return snap;
}

static int add_event(void *arg, const forum_event *ev)
{
    cJSON *events = arg;
    char *text = proto_encode_event(ev, FORUM_VIEW_STAFF);
    cJSON *obj = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!obj)
        return -1;
    cJSON_DeleteItemFromObject(obj, "type");
    if (!cJSON_GetObjectItemCaseSensitive(obj, "actor")) /* the staff rendering names it */
        cJSON_AddStringToObject(obj, "actor", ev->actor);
    cJSON_AddItemToArray(events, obj);
    return 0;
}

char *export_transcript_json(store *s, const forum_state *st, const char *code, size_t *len)
{
    cJSON *doc = producer_snapshot(st, code);
    if (!doc)
        return NULL;
    cJSON_AddStringToObject(doc, "format", "forum.transcript.v1");
    cJSON *events = cJSON_AddArrayToObject(doc, "events");
    char *out = NULL;
    if (!events || store_events_after(s, code, 0, (size_t)-1, add_event, events) < 0)
        goto done;
    out = cJSON_PrintUnformatted(doc);
    if (out)
        *len = strlen(out);
done:
    cJSON_Delete(doc);
    return out;
}

/* ------------------------------------------------------------------------------------------ */
/* Facts derived from the events                                                              */

typedef struct qfacts {
    int64_t id;
    const cJSON *q;        /* final question object (snapshot) */
    bool aired;            /* went on air (or was answered during the show) */
    int64_t air_order;     /* order of first airing */
    int64_t air_at;        /* ms epoch of first airing */
    int64_t air_offset;    /* ms since session.start, -1 unknown */
    int64_t segment_id;    /* segment current at first airing, 0 none */
    bool published;        /* a question.published event exists */
    int number;            /* number in the minutes, 0 = not listed */
} qfacts;

typedef struct facts {
    cJSON *snap;
    qfacts *qs;
    size_t n;
    int64_t segment;       /* current segment while walking the events */
    int64_t next_air;
} facts;

#define num export_num
#define str export_str

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const qfacts *)a)->id, y = ((const qfacts *)b)->id;
    return (x > y) - (x < y);
}

static qfacts *find_facts(facts *f, int64_t id)
{
    qfacts key = {.id = id};
    return bsearch(&key, f->qs, f->n, sizeof *f->qs, by_id);
}

static void first_airing(facts *f, qfacts *q, const forum_event *ev)
{
    if (!q || q->aired)
        return;
    q->aired = true;
    q->air_order = ++f->next_air;
    q->air_at = ev->at;
    q->air_offset = ev->offset_ms;
    q->segment_id = f->segment;
}

static int note_event(void *arg, const forum_event *ev)
{
    facts *f = arg;
    switch (ev->kind) {
    case FORUM_EV_PANEL_CHANGED: f->segment = ev->p.panel.segment_id; break;
    case FORUM_EV_ONAIR_CHANGED:
        if (ev->p.question_id > 0)
            first_airing(f, find_facts(f, ev->p.question_id), ev);
        break;
    case FORUM_EV_QUESTION_ANSWERED:
        /* answered without going on air: it was dealt with at this point of the show */
        first_airing(f, find_facts(f, ev->p.question.q.id), ev);
        break;
    case FORUM_EV_QUESTION_PUBLISHED: {
        qfacts *q = find_facts(f, ev->p.question.q.id);
        if (q)
            q->published = true;
        break;
    }
    default: break; /* the minutes read the rest from the final state */
    }
    return 0;
}

/* Loads the final state and walks the events. Returns 0 or -1. */
static int facts_load(facts *f, store *s, const forum_state *st, const char *code)
{
    memset(f, 0, sizeof *f);
    if (!(f->snap = producer_snapshot(st, code)))
        return -1;
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(f->snap, "questions"), *it;
    int n = cJSON_GetArraySize(qs);
    f->qs = calloc(n > 0 ? (size_t)n : 1, sizeof *f->qs);
    if (!f->qs)
        return -1;
    cJSON_ArrayForEach(it, qs)
    {
        qfacts *q = &f->qs[f->n++];
        q->id = num(it, "id");
        q->q = it;
        q->air_offset = -1;
    }
    qsort(f->qs, f->n, sizeof *f->qs, by_id);
    return store_events_after(s, code, 0, (size_t)-1, note_event, f) < 0 ? -1 : 0;
}

static void facts_free(facts *f)
{
    cJSON_Delete(f->snap);
    free(f->qs);
}

/* ------------------------------------------------------------------------------------------ */
/* Text buffer                                                                                */

/* Markdown and CSV are written into jsonw's growable buffer (jsonw_printf for formatted text). */
typedef jsonw tbuf;
#define tb_put jsonw_put
#define tb_puts jsonw_puts
#define tb_printf jsonw_printf

/* User text in Markdown, on one line, so that any Markdown viewer (CommonMark, GitHub's,
 * markdown-it, Typora...) shows exactly that text and nothing it could mean: line breaks and
 * tabs become spaces; each ASCII character some dialect gives an inline meaning is escaped
 * with a backslash (\\ ` * _ [ ] < > # | ~ & $ = ^: emphasis, code, links and images, raw HTML,
 * entities, headings, tables, strikethrough, math, highlight, footnotes), and so are the list
 * markers the text could open a list item with (a leading - or +, the . or ) of a leading
 * "1. " or "1) "). Leading blanks are dropped (they would make an indented code block). Everything
 * else, Chinese and full-width punctuation included, is copied unchanged. */
static void tb_markdown_text(tbuf *b, const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    const char *marker = NULL; /* the character that would end a list marker */
    if (*s == '-' || *s == '+') {
        marker = s;
    } else {
        const char *d = s;
        while (*d >= '0' && *d <= '9' && d - s < 9)
            d++;
        if (d > s && (*d == '.' || *d == ')') && strchr(" \t\r\n", d[1])) /* d[1] may be NUL */
            marker = d;
    }
    for (const char *run = s;; s++) {
        char c = *s;
        bool escape = s == marker || (c && strchr("\\`*_[]<>#|~&$=^", c) != NULL);
        bool blank = c == '\n' || c == '\r' || c == '\t';
        if (!escape && !blank && c)
            continue;
        tb_put(b, run, (size_t)(s - run));
        if (!c)
            break;
        run = s + 1;
        if (escape) {
            tb_put(b, "\\", 1);
            run = s;
        } else if (c != '\r' || s[1] != '\n') {
            tb_put(b, " ", 1);
        }
    }
}

static char *tb_finish(tbuf *b, size_t *len)
{
    char *text = jsonw_finish(b);
    if (text)
        *len = b->len;
    return text;
}

/* hh:mm:ss of a duration in ms (hours may exceed 24); "--:--:--" when negative. */
static void hms(char out[32], int64_t ms)
{
    if (ms < 0) {
        snprintf(out, 32, "--:--:--");
        return;
    }
    int64_t secs = ms / 1000;
    snprintf(out, 32, "%02lld:%02lld:%02lld", (long long)(secs / 3600),
             (long long)(secs / 60 % 60), (long long)(secs % 60));
}

/* YYYY-MM-DD in the server's local time, or "" for 0. */
static void local_date(char out[16], int64_t ms)
{
    out[0] = '\0';
    if (ms <= 0)
        return;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(out, 16, "%Y-%m-%d", &tm);
}

/* ------------------------------------------------------------------------------------------ */
/* transcript.md                                                                              */

typedef struct labels {
    const char *programme, *title, *date, *unscheduled, *topic, *panelists, *agenda, *qa;
    const char *no_agenda, *outside, *none_aired, *asked_by, *anonymous, *to, *whole_panel;
    const char *answer, *no_answer, *follow_ups, *commitments, *no_commitments, *owner;
    const char *owner_none, *due, *due_none, *status, *statuses[4], *question_ref;
    const char *numbers, *peak, *received, *kinds[3], *approved, *answered, *median, *median_none;
    const char *report;
    const char *colon, *colon_end, *sep, *lparen, *rparen, *comma;
    /* the residents' list (needs and suggestions), what was not taken up, the polls */
    const char *residents, *groups[2], *votes_one, *votes_many, *st_answered, *st_aired;
    const char *st_waiting, *st_dismissed, *not_taken, *polls, *no_polls, *multi, *poll_total;
    const char *poll_total_one, *poll_open;
} labels;

static const labels ZH = {
    .programme = "节目", .title = "标题", .date = "日期", .unscheduled = "未定", .topic = "主题",
    .panelists = "嘉宾", .agenda = "议程", .qa = "问答", .no_agenda = "（无议程）",
    .outside = "议程之外", .none_aired = "（本环节没有上屏的问题）", .asked_by = "提问",
    .anonymous = "匿名", .to = "对象", .whole_panel = "全体嘉宾", .answer = "答复",
    .no_answer = "（无记录）", .follow_ups = "追问", .commitments = "承诺事项",
    .no_commitments = "（无）", .owner = "负责人", .owner_none = "待定", .due = "期限",
    .due_none = "未定", .status = "状态", .statuses = {"未开始", "进行中", "已完成", "已撤回"},
    .question_ref = "第 %d 问", .numbers = "数据", .peak = "观看人数峰值",
    .received = "收到问题", .kinds = {"提问", "需求", "建议"}, .approved = "通过审核",
    .answered = "已答复", .median = "从提交到上屏的中位时间", .median_none = "—",
    .report = "图表报告（制作人员）",
    .colon = "：", .colon_end = "：", .sep = "；", .lparen = "（", .rparen = "）", .comma = "，",
    .residents = "需求与建议", .groups = {"需求", "建议"}, .votes_one = "%lld 票",
    .votes_many = "%lld 票", .st_answered = "已答复", .st_aired = "已上屏", .st_waiting = "待回应",
    .st_dismissed = "未入选", .not_taken = "未入选的问题", .polls = "现场投票",
    .no_polls = "（本期没有投票）", .multi = "多选", .poll_total = "共 %lld 票",
    .poll_total_one = "共 %lld 票",
    .poll_open = "投票未结束",
};

static const labels EN = {
    .programme = "Programme", .title = "Title", .date = "Date", .unscheduled = "not scheduled",
    .topic = "Topic", .panelists = "Panelists", .agenda = "Agenda",
    .qa = "Questions and answers", .no_agenda = "(no agenda)", .outside = "Outside the agenda",
    .none_aired = "(no questions went on air in this part)", .asked_by = "Asked by",
    .anonymous = "anonymous", .to = "To", .whole_panel = "the whole panel", .answer = "Answer",
    .no_answer = "(none recorded)", .follow_ups = "Follow-ups", .commitments = "Commitments",
    .no_commitments = "(none)", .owner = "owner", .owner_none = "to be decided", .due = "due",
    .due_none = "none", .status = "status", .statuses = {"open", "in progress", "done", "withdrawn"},
    .question_ref = "question %d", .numbers = "Numbers", .peak = "Peak viewers",
    .received = "Questions received", .kinds = {"questions", "needs", "suggestions"},
    .approved = "Approved", .answered = "Answered",
    .median = "Median time from submission to on air", .median_none = "-",
    .report = "Charts (staff)",
    .colon = ": ", .colon_end = ":", .sep = "; ", .lparen = " (", .rparen = ")", .comma = ", ",
    .residents = "Needs and suggestions", .groups = {"Needs", "Suggestions"},
    .votes_one = "%lld vote", .votes_many = "%lld votes", .st_answered = "answered",
    .st_aired = "went on air", .st_waiting = "awaiting a response", .st_dismissed = "not taken up",
    .not_taken = "Questions not taken up", .polls = "Polls", .no_polls = "(no polls in this show)",
    .multi = "multiple choice", .poll_total = "%lld votes in all",
    .poll_total_one = "%lld vote in all", .poll_open = "still open",
};

static const char *panelist_name(const cJSON *session, int64_t id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(session, "panelists"))
    {
        if (num(it, "id") == id)
            return str(it, "name");
    }
    return NULL;
}

static bool is_public(const cJSON *q)
{
    const char *state = str(q, "state");
    return state && (strcmp(state, "published") == 0 || strcmp(state, "on_air") == 0 ||
                     strcmp(state, "answered") == 0);
}

static int by_air_order(const void *a, const void *b)
{
    const qfacts *x = *(const qfacts *const *)a, *y = *(const qfacts *const *)b;
    return (x->air_order > y->air_order) - (x->air_order < y->air_order);
}

/* Is q listed as a follow-up (under a parent that is listed)? */
static bool nested(facts *f, const qfacts *q)
{
    int64_t parent = num(q->q, "parent_id");
    const qfacts *p = parent ? find_facts(f, parent) : NULL;
    return p && p->aired && is_public(q->q);
}

static void md_question(tbuf *b, const labels *L, facts *f, const cJSON *session, qfacts *q)
{
    char t[32];
    hms(t, q->air_offset);
    const char *author = str(q->q, "author");
    int64_t to = num(q->q, "to");
    const char *to_name = to ? panelist_name(session, to) : NULL;
    const char *note = str(q->q, "answer_note");
    tb_printf(b, "%d. [%s] ", q->number, t);
    tb_markdown_text(b, str(q->q, "text") ? str(q->q, "text") : "");
    tb_printf(b, "\n   - %s%s", L->asked_by, L->colon);
    tb_markdown_text(b, author ? author : L->anonymous);
    tb_printf(b, "\n   - %s%s", L->to, L->colon);
    tb_markdown_text(b, to_name ? to_name : L->whole_panel);
    tb_printf(b, "\n   - %s%s", L->answer, L->colon);
    tb_markdown_text(b, note && *note ? note : L->no_answer);
    tb_puts(b, "\n");
    bool header = false;
    for (size_t i = 0; i < f->n; i++) {
        qfacts *fu = &f->qs[i];
        if (num(fu->q, "parent_id") != q->id || !is_public(fu->q))
            continue;
        if (!header) {
            tb_printf(b, "   - %s%s\n", L->follow_ups, L->colon_end);
            header = true;
        }
        tb_puts(b, "     - ");
        if (fu->aired) {
            hms(t, fu->air_offset);
            tb_printf(b, "[%s] ", t);
        }
        tb_markdown_text(b, str(fu->q, "text") ? str(fu->q, "text") : "");
        const char *fa = str(fu->q, "author");
        tb_puts(b, L->lparen);
        tb_markdown_text(b, fa ? fa : L->anonymous);
        tb_puts(b, L->rparen);
        tb_puts(b, "\n");
        const char *fnote = str(fu->q, "answer_note");
        if (fnote && *fnote) {
            tb_printf(b, "       %s%s", L->answer, L->colon);
            tb_markdown_text(b, fnote);
            tb_puts(b, "\n");
        }
    }
}

/* Was q ever public and is it still on the record (not withdrawn by its asker, not merged into
 * another question, and if dismissed then with a reason the moderator gave)? The residents'
 * list and the list of what was not taken up hold these. A question dismissed without a reason
 * (spam, abuse) stays out of the public minutes: dismissing took it down. */
static bool on_record(const qfacts *q)
{
    const char *state = str(q->q, "state"), *reason = str(q->q, "dismiss_reason");
    if (state && strcmp(state, "dismissed") == 0 && !(reason && reason[0]))
        return false;
    return q->published && state && strcmp(state, "withdrawn") != 0 &&
           strcmp(state, "pending") != 0 && !num(q->q, "merged_into");
}

/* One line of the residents' list or of what was not taken up: text (asker) — votes; status. */
static void md_listed(tbuf *b, const labels *L, const qfacts *q, int n)
{
    const char *state = str(q->q, "state"), *author = str(q->q, "author");
    const char *reason = str(q->q, "dismiss_reason");
    long long votes = (long long)num(q->q, "votes");
    tb_printf(b, "%d. ", n);
    tb_markdown_text(b, str(q->q, "text") ? str(q->q, "text") : "");
    tb_puts(b, L->lparen);
    tb_markdown_text(b, author ? author : L->anonymous);
    tb_puts(b, L->rparen);
    tb_puts(b, " — ");
    tb_printf(b, votes == 1 ? L->votes_one : L->votes_many, votes);
    tb_puts(b, L->sep);
    if (state && strcmp(state, "answered") == 0)
        tb_puts(b, L->st_answered);
    else if (state && strcmp(state, "dismissed") == 0)
        tb_puts(b, L->st_dismissed);
    else
        tb_puts(b, q->aired ? L->st_aired : L->st_waiting);
    if (q->number) {
        tb_puts(b, L->lparen);
        tb_printf(b, L->question_ref, q->number);
        tb_puts(b, L->rparen);
    }
    if (reason && *reason) {
        tb_puts(b, L->colon);
        tb_markdown_text(b, reason);
    }
    tb_puts(b, "\n");
}

/* Most votes first, then the order they came. */
static int by_votes(const void *a, const void *b)
{
    const qfacts *x = *(const qfacts *const *)a, *y = *(const qfacts *const *)b;
    int64_t vx = num(x->q, "votes"), vy = num(y->q, "votes");
    if (vx != vy)
        return vx > vy ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The residents' list: every need and suggestion that was published (most votes first), by
 * kind; then the public questions that were dismissed, with the reason given. */
static void md_residents(tbuf *b, const labels *L, facts *f, qfacts **list)
{
    static const char *const cats[2] = {"need", "suggestion"};
    tb_printf(b, "\n## %s\n", L->residents);
    for (int k = 0; k < 2; k++) {
        size_t n = 0;
        for (size_t i = 0; i < f->n; i++) {
            const char *cat = str(f->qs[i].q, "category");
            if (cat && strcmp(cat, cats[k]) == 0 && on_record(&f->qs[i]))
                list[n++] = &f->qs[i];
        }
        qsort(list, n, sizeof *list, by_votes);
        tb_printf(b, "\n### %s%s%zu%s\n\n", L->groups[k], L->lparen, n, L->rparen);
        for (size_t i = 0; i < n; i++)
            md_listed(b, L, list[i], (int)i + 1);
        if (n == 0)
            tb_printf(b, "%s\n", L->no_commitments);
    }
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        const char *cat = str(f->qs[i].q, "category"), *state = str(f->qs[i].q, "state");
        if ((!cat || strcmp(cat, "question") == 0) && state && strcmp(state, "dismissed") == 0 &&
            on_record(&f->qs[i]))
            list[n++] = &f->qs[i];
    }
    if (n == 0)
        return;
    tb_printf(b, "\n### %s\n\n", L->not_taken);
    for (size_t i = 0; i < n; i++)
        md_listed(b, L, list[i], (int)i + 1);
}

/* Every poll that was opened, with its result. */
static void md_polls(tbuf *b, const labels *L, const cJSON *snap)
{
    const cJSON *poll, *opt;
    int n = 0;
    tb_printf(b, "\n## %s\n\n", L->polls);
    cJSON_ArrayForEach(poll, cJSON_GetObjectItemCaseSensitive(snap, "polls"))
    {
        const char *state = str(poll, "state");
        if (!state || strcmp(state, "draft") == 0)
            continue;
        long long total = 0;
        cJSON_ArrayForEach(opt, cJSON_GetObjectItemCaseSensitive(poll, "options")) total +=
            num(opt, "votes");
        tb_printf(b, "%d. ", ++n);
        tb_markdown_text(b, str(poll, "title") ? str(poll, "title") : "");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(poll, "multi")))
            tb_printf(b, "%s%s%s", L->lparen, L->multi, L->rparen);
        tb_puts(b, " — ");
        tb_printf(b, total == 1 ? L->poll_total_one : L->poll_total, total);
        if (strcmp(state, "open") == 0)
            tb_printf(b, "%s%s", L->sep, L->poll_open);
        tb_puts(b, "\n");
        cJSON_ArrayForEach(opt, cJSON_GetObjectItemCaseSensitive(poll, "options"))
        {
            long long votes = (long long)num(opt, "votes");
            tb_puts(b, "   - ");
            tb_markdown_text(b, str(opt, "text") ? str(opt, "text") : "");
            tb_puts(b, L->colon);
            tb_printf(b, votes == 1 ? L->votes_one : L->votes_many, votes);
            tb_printf(b, "%s%lld%%%s\n", L->lparen, total ? (votes * 100 + total / 2) / total : 0,
                      L->rparen);
        }
    }
    if (n == 0)
        tb_printf(b, "%s\n", L->no_polls);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

char *export_transcript_md(store *s, const forum_state *st, const char *code, export_lang lang,
                           size_t *len)
{
    const labels *L = lang == EXPORT_EN ? &EN : &ZH;
    facts f;
    tbuf b = {0};
    qfacts **aired = NULL;
    int64_t *waits = NULL;
    if (facts_load(&f, s, st, code) < 0)
        goto fail;
    const cJSON *session = cJSON_GetObjectItemCaseSensitive(f.snap, "session"), *it;
    const char *program = str(session, "program"), *title = str(session, "title");
    const char *topic = str(session, "topic");
    int64_t when = num(session, "started_at") ? num(session, "started_at")
                                              : num(session, "scheduled_at");
    char date[16];
    local_date(date, when);

    /* Header */
    tb_puts(&b, "# ");
    if (program) {
        tb_markdown_text(&b, program);
        tb_puts(&b, L->colon);
    }
    tb_markdown_text(&b, title ? title : "");
    tb_puts(&b, "\n\n");
    tb_printf(&b, "- %s%s", L->programme, L->colon);
    tb_markdown_text(&b, program ? program : "");
    tb_printf(&b, "\n- %s%s", L->title, L->colon);
    tb_markdown_text(&b, title ? title : "");
    tb_printf(&b, "\n- %s%s%s\n", L->date, L->colon, date[0] ? date : L->unscheduled);
    if (topic && *topic) {
        tb_printf(&b, "- %s%s", L->topic, L->colon);
        tb_markdown_text(&b, topic);
        tb_puts(&b, "\n");
    }

    tb_printf(&b, "\n## %s\n\n", L->panelists);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(session, "panelists"))
    {
        const char *aff = str(it, "affiliation"), *role = str(it, "role");
        tb_puts(&b, "- ");
        tb_markdown_text(&b, str(it, "name") ? str(it, "name") : "");
        if (aff || role) {
            tb_puts(&b, L->lparen);
            if (aff)
                tb_markdown_text(&b, aff);
            if (aff && role)
                tb_puts(&b, L->comma);
            if (role)
                tb_markdown_text(&b, role);
            tb_puts(&b, L->rparen);
        }
        tb_puts(&b, "\n");
    }

    const cJSON *segments = cJSON_GetObjectItemCaseSensitive(session, "segments");
    tb_printf(&b, "\n## %s\n\n", L->agenda);
    int si = 0;
    cJSON_ArrayForEach(it, segments)
    {
        tb_printf(&b, "%d. ", ++si);
        tb_markdown_text(&b, str(it, "title") ? str(it, "title") : "");
        tb_puts(&b, "\n");
    }
    if (si == 0)
        tb_printf(&b, "%s\n", L->no_agenda);

    /* Questions put on air, by segment, in the order they first went on air. */
    size_t n_aired = 0;
    aired = calloc(f.n ? f.n : 1, sizeof *aired);
    if (!aired)
        goto fail;
    for (size_t i = 0; i < f.n; i++)
        if (f.qs[i].aired)
            aired[n_aired++] = &f.qs[i];
    qsort(aired, n_aired, sizeof *aired, by_air_order);
    int number = 0;
    /* Numbers first (in air order, follow-ups excluded), so commitments can refer to them. */
    for (size_t i = 0; i < n_aired; i++)
        if (!nested(&f, aired[i]))
            aired[i]->number = ++number;

    tb_printf(&b, "\n## %s\n", L->qa);
    si = 0;
    cJSON_ArrayForEach(it, segments)
    {
        int64_t seg = num(it, "id");
        tb_printf(&b, "\n### %d. ", ++si);
        tb_markdown_text(&b, str(it, "title") ? str(it, "title") : "");
        tb_puts(&b, "\n\n");
        bool any = false;
        for (size_t i = 0; i < n_aired; i++) {
            if (aired[i]->segment_id != seg || !aired[i]->number)
                continue;
            md_question(&b, L, &f, session, aired[i]);
            any = true;
        }
        if (!any)
            tb_printf(&b, "%s\n", L->none_aired);
    }
    /* Questions aired while no segment of the agenda was current. */
    bool outside = false;
    for (size_t i = 0; i < n_aired; i++) {
        bool listed_segment = false;
        const cJSON *sg;
        cJSON_ArrayForEach(sg, segments) listed_segment |= num(sg, "id") == aired[i]->segment_id;
        if (listed_segment || !aired[i]->number)
            continue;
        if (!outside)
            tb_printf(&b, "\n### %s\n\n", L->outside);
        outside = true;
        md_question(&b, L, &f, session, aired[i]);
    }

    md_residents(&b, L, &f, aired); /* aired: reused as scratch, the Q&A is written */
    md_polls(&b, L, f.snap);

    /* Commitments made in this session, but not those the producer keeps staff-only: the
     * minutes are public once the session is archived (transcript.json keeps them all). */
    tb_printf(&b, "\n## %s\n\n", L->commitments);
    int ai = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(f.snap, "actions"))
    {
        const char *publication = str(it, "publication");
        if (publication && strcmp(publication, "staff") == 0)
            continue;
        const char *owner = str(it, "owner"), *due = str(it, "due"), *status = str(it, "status");
        int status_index = status && strcmp(status, "withdrawn") == 0     ? 3
                        : status && strcmp(status, "done") == 0          ? 2
                        : status && strcmp(status, "in_progress") == 0 ? 1
                                                                       : 0;
        tb_printf(&b, "%d. ", ++ai);
        tb_markdown_text(&b, str(it, "text") ? str(it, "text") : "");
        tb_printf(&b, " — %s%s", L->owner, L->colon);
        tb_markdown_text(&b, owner ? owner : L->owner_none);
        tb_printf(&b, "%s%s%s", L->sep, L->due, L->colon);
        tb_markdown_text(&b, due ? due : L->due_none);
        tb_printf(&b, "%s%s%s%s", L->sep, L->status, L->colon, L->statuses[status_index]);
        qfacts *linked = num(it, "question_id") ? find_facts(&f, num(it, "question_id")) : NULL;
        if (linked && linked->number) {
            tb_puts(&b, L->lparen);
            tb_printf(&b, L->question_ref, linked->number);
            tb_puts(&b, L->rparen);
        }
        tb_puts(&b, "\n");
    }
    if (ai == 0)
        tb_printf(&b, "%s\n", L->no_commitments);

    /* Numbers */
    int kinds[3] = {0, 0, 0}, approved = 0, answered = 0;
    size_t n_waits = 0;
    waits = calloc(f.n ? f.n : 1, sizeof *waits);
    if (!waits)
        goto fail;
    for (size_t i = 0; i < f.n; i++) {
        const char *cat = str(f.qs[i].q, "category"), *state = str(f.qs[i].q, "state");
        kinds[cat && strcmp(cat, "need") == 0 ? 1 : cat && strcmp(cat, "suggestion") == 0 ? 2 : 0]++;
        approved += f.qs[i].published;
        answered += state && strcmp(state, "answered") == 0;
        if (f.qs[i].aired)
            waits[n_waits++] = f.qs[i].air_at - num(f.qs[i].q, "created_at");
    }
    char median[32];
    if (n_waits) {
        qsort(waits, n_waits, sizeof *waits, cmp_i64);
        int64_t m = n_waits % 2 ? waits[n_waits / 2]
                                : (waits[n_waits / 2 - 1] + waits[n_waits / 2]) / 2;
        hms(median, m < 0 ? 0 : m);
    } else {
        snprintf(median, sizeof median, "%s", L->median_none);
    }
    tb_printf(&b, "\n## %s\n\n", L->numbers);
    tb_printf(&b, "- %s%s%lld\n", L->peak, L->colon, (long long)num(f.snap, "peak_viewers"));
    tb_printf(&b, "- %s%s%zu%s%s %d%s%s %d%s%s %d%s\n", L->received, L->colon, f.n, L->lparen,
              L->kinds[0], kinds[0], L->comma, L->kinds[1], kinds[1], L->comma, L->kinds[2],
              kinds[2], L->rparen);
    tb_printf(&b, "- %s%s%d\n", L->approved, L->colon, approved);
    tb_printf(&b, "- %s%s%d\n", L->answered, L->colon, answered);
    tb_printf(&b, "- %s%s%s\n", L->median, L->colon, median);
    if (strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
        strlen(code)) /* join codes are; anything else would need escaping in a link */
        tb_printf(&b, "- %s%s[/report/%s](/report/%s)\n", L->report, L->colon, code, code);

    free(aired);
    free(waits);
    facts_free(&f);
    return tb_finish(&b, len);
fail:
    free(aired);
    free(waits);
    facts_free(&f);
    free(b.p);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* questions.csv                                                                              */

/* One RFC 4180 field: quoted when it holds a comma, quote, CR or LF (quotes doubled). Text a
 * spreadsheet would run as a formula (starting with = + - @) gets a leading apostrophe. */
static void csv_field(tbuf *b, const char *v, bool text, bool first)
{
    if (!first)
        tb_put(b, ",", 1);
    if (!v)
        return;
    bool formula = text && (*v == '=' || *v == '+' || *v == '-' || *v == '@');
    bool quote = formula || strpbrk(v, ",\"\r\n") != NULL;
    if (quote)
        tb_put(b, "\"", 1);
    if (formula)
        tb_put(b, "'", 1);
    for (const char *run = v;; v++) {
        if (*v == '"' || !*v) {
            tb_put(b, run, (size_t)(v - run));
            if (!*v)
                break;
            tb_put(b, "\"\"", 2);
            run = v + 1;
        }
    }
    if (quote)
        tb_put(b, "\"", 1);
}

static void csv_int(tbuf *b, const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    char tmp[32] = "";
    if (cJSON_IsNumber(v))
        snprintf(tmp, sizeof tmp, "%lld", (long long)v->valuedouble);
    csv_field(b, cJSON_IsNumber(v) ? tmp : NULL, false, false);
}

/* ISO 8601 UTC with milliseconds. */
static void iso_utc(char out[32], int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    out[0] = '\0';
    if (ms > 0 && gmtime_r(&t, &tm)) {
        char day[24];
        strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out, 32, "%s.%03dZ", day, (int)(ms % 1000));
    }
}

static const char *const CSV_COLUMNS[] = {
    "id", "session", "created_at", "phase", "source", "category", "state", "text", "author",
    "to", "to_name", "parent_id", "votes", "starred", "answer_note", "on_air_offset",
    "segment", "carried_from", "carried_question_id", "merged_into", "viewer_id",
    "dismiss_reason", "carried_source"};

char *export_questions_csv(store *s, const forum_state *st, const char *code, size_t *len)
{
    facts f;
    tbuf b = {0};
    if (facts_load(&f, s, st, code) < 0) {
        facts_free(&f);
        return NULL;
    }
    const cJSON *session = cJSON_GetObjectItemCaseSensitive(f.snap, "session");
    tb_puts(&b, "\xEF\xBB\xBF");
    for (size_t i = 0; i < sizeof CSV_COLUMNS / sizeof CSV_COLUMNS[0]; i++)
        csv_field(&b, CSV_COLUMNS[i], false, i == 0);
    tb_puts(&b, "\r\n");
    for (size_t i = 0; i < f.n; i++) {
        const qfacts *qf = &f.qs[i];
        const cJSON *q = qf->q;
        char tmp[32], when[32], offset[32];
        snprintf(tmp, sizeof tmp, "%lld", (long long)qf->id);
        csv_field(&b, tmp, false, true);
        csv_field(&b, code, false, false);
        iso_utc(when, num(q, "created_at"));
        csv_field(&b, when, false, false);
        csv_field(&b, str(q, "phase"), false, false);
        csv_field(&b, str(q, "source"), false, false);
        csv_field(&b, str(q, "category"), false, false);
        csv_field(&b, str(q, "state"), false, false);
        csv_field(&b, str(q, "text"), true, false);
        csv_field(&b, str(q, "author"), true, false);
        csv_int(&b, q, "to");
        csv_field(&b, num(q, "to") ? panelist_name(session, num(q, "to")) : NULL, true, false);
        csv_int(&b, q, "parent_id");
        csv_int(&b, q, "votes");
        csv_field(&b, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "starred")) ? "true"
                                                                                   : "false",
                  false, false);
        csv_field(&b, str(q, "answer_note"), true, false);
        hms(offset, qf->air_offset);
        csv_field(&b, qf->aired && qf->air_offset >= 0 ? offset : NULL, false, false);
        const char *segment = NULL;
        const cJSON *sg;
        cJSON_ArrayForEach(sg, cJSON_GetObjectItemCaseSensitive(session, "segments"))
        {
            if (qf->aired && qf->segment_id && num(sg, "id") == qf->segment_id)
                segment = str(sg, "title");
        }
        csv_field(&b, segment, true, false);
        csv_field(&b, str(q, "carried_from"), false, false);
        csv_int(&b, q, "carried_question_id");
        csv_int(&b, q, "merged_into");
        csv_field(&b, str(q, "viewer_id"), false, false);
        csv_field(&b, str(q, "dismiss_reason"), true, false);
        csv_field(&b, str(q, "carried_source"), false, false);
        tb_puts(&b, "\r\n");
    }
    facts_free(&f);
    return tb_finish(&b, len);
}

/* ------------------------------------------------------------------------------------------ */
/* Search                                                                                     */

static const char *const CATEGORY_NAMES[] = {"question", "need", "suggestion"};

cJSON *export_search(store *s, const forum_command *cmd, forum_err *err, char *message,
                     size_t message_len)
{
    store_search_query q = {
        .text = cmd->query,
        .program_id = cmd->program_id,
        .from_ms = cmd->from_ms,
        .to_ms = cmd->to_ms,
        .category = cmd->has_category ? CATEGORY_NAMES[cmd->category] : NULL,
        .state = cmd->state,
        .limit = cmd->limit,
    };
    cJSON *results = store_search(s, &q, message, message_len);
    if (!results) {
        *err = FORUM_E_BAD_REQUEST;
        return NULL;
    }
    cJSON *ack = cJSON_CreateObject();
    if (!ack) {
        cJSON_Delete(results);
        *err = FORUM_E_INTERNAL;
        snprintf(message, message_len, "out of memory");
        return NULL;
    }
    cJSON_AddItemToObject(ack, "results", results);
    return ack;
}

/* One query-string component s[0..n), copied. net (libwebsockets) has already decoded the
 * %XX escapes of each argument; '+' stays as it came. */
static char *query_component(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

static bool all_digits(const char *s)
{
    if (!*s || strlen(s) > 15)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static char *http_error(int *status, int code, const char *error, const char *message,
                        const char *field, size_t *len)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", error);
    cJSON_AddStringToObject(o, "message", message);
    if (field && *field)
        cJSON_AddStringToObject(o, "field", field);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    *status = code;
    *len = text ? strlen(text) : 0;
    return text;
}

/* Decodes the search request object req (taken) as proto does one from a socket, runs it, and
 * renders the HTTP answer. */
static char *search_reply(store *s, const forum_limits *limits, cJSON *req, int *status,
                          size_t *len)
{
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!text)
        return http_error(status, 500, "internal", "out of memory", NULL, len);
    forum_command cmd;
    proto_error perr;
    int rc = proto_decode(text, strlen(text), limits, &cmd, &perr);
    free(text);
    if (rc != 0)
        return http_error(status, 400, proto_err_name(perr.code), perr.message, perr.field, len);
    forum_err err = FORUM_OK;
    char message[200];
    cJSON *ack = export_search(s, &cmd, &err, message, sizeof message);
    if (ack)
        cJSON_AddStringToObject(ack, "q", cmd.query);
    forum_command_free(&cmd);
    if (!ack)
        return http_error(status, err == FORUM_E_INTERNAL ? 500 : 400, proto_err_name(err), message,
                          NULL, len);
    char *body = cJSON_PrintUnformatted(ack);
    cJSON_Delete(ack);
    if (!body)
        return http_error(status, 500, "internal", "out of memory", NULL, len);
    *status = 200;
    *len = strlen(body);
    return body;
}

char *export_search_http(store *s, const forum_limits *limits, const char *query, int *status,
                         size_t *len)
{
    /* The query string becomes a `search` request, decoded by proto like one from a socket:
     * numbers stay numbers, anything else is a string, so the same rules apply. */
    cJSON *req = cJSON_CreateObject();
    if (!req)
        return http_error(status, 500, "internal", "out of memory", NULL, len);
    cJSON_AddStringToObject(req, "type", "search");
    for (const char *p = query ? query : ""; *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq) {
            char *key = query_component(p, (size_t)(eq - p));
            char *value = query_component(eq + 1, n - (size_t)(eq - p) - 1);
            if (key && value && !cJSON_GetObjectItemCaseSensitive(req, key) &&
                strcmp(key, "type") != 0 && strcmp(key, "id") != 0) {
                bool numeric = strcmp(key, "q") != 0 && all_digits(value);
                if (numeric)
                    cJSON_AddNumberToObject(req, key, (double)strtoll(value, NULL, 10));
                else
                    cJSON_AddStringToObject(req, key, value);
            }
            free(key);
            free(value);
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return search_reply(s, limits, req, status, len);
}

char *export_search_json(store *s, const forum_limits *limits, const char *body, size_t body_len,
                         int *status, size_t *len)
{
    const char *end = NULL;
    cJSON *req = cJSON_ParseWithLengthOpts(body, body_len, &end, false);
    while (req && end < body + body_len && strchr(" \t\r\n", *end) && *end)
        end++;
    if (!req || end != body + body_len) {
        cJSON_Delete(req);
        return http_error(status, 400, "bad_json", "the body is not one JSON value", NULL, len);
    }
    if (!cJSON_IsObject(req)) {
        cJSON_Delete(req);
        return http_error(status, 400, "bad_request", "the body must be a JSON object", NULL, len);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(req, "id");
    cJSON_DeleteItemFromObjectCaseSensitive(req, "type");
    if (!cJSON_AddStringToObject(req, "type", "search")) {
        cJSON_Delete(req);
        return http_error(status, 500, "internal", "out of memory", NULL, len);
    }
    return search_reply(s, limits, req, status, len);
}

/* ------------------------------------------------------------------------------------------ */
/* commitments.csv                                                                            */

static const char *const COMMITMENT_COLUMNS[] = {
    "id", "follows_action_id", "session", "session_title", "session_date", "text", "owner",
    "due", "status", "overdue", "reason", "promised_by", "question_id", "question_text",
    "asker", "addressed_to", "created_at", "updated_at", "history", "satisfied",
    "basically_satisfied", "dissatisfied", "current_status", "minutes_url"};

/* One CSV row of a board item (a chain's first item or a follow-up) with its chain's current
 * status. */
static void csv_commitment(tbuf *b, const cJSON *it, const char *current)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(it, "question");
    const cJSON *promised = cJSON_GetObjectItemCaseSensitive(it, "promised_by");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(q, "to");
    const cJSON *ratings = cJSON_GetObjectItemCaseSensitive(it, "ratings");
    char when[32], day[16], id[32];
    snprintf(id, sizeof id, "%lld", (long long)num(it, "id"));
    csv_field(b, id, false, true);
    csv_int(b, it, "follows_action_id");
    csv_field(b, str(it, "session"), false, false);
    csv_field(b, str(it, "session_title"), true, false);
    local_date(day, num(it, "session_date"));
    csv_field(b, day[0] ? day : NULL, false, false);
    csv_field(b, str(it, "text"), true, false);
    csv_field(b, str(it, "owner"), true, false);
    csv_field(b, str(it, "due"), false, false);
    csv_field(b, str(it, "status"), false, false);
    csv_field(b, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "overdue")) ? "true" : "false",
              false, false);
    csv_field(b, str(it, "reason"), true, false);
    csv_field(b, str(promised, "name"), true, false);
    csv_int(b, q, "id");
    csv_field(b, str(q, "text"), true, false);
    csv_field(b, cJSON_IsObject(q) ? (str(q, "author") ? str(q, "author") : "匿名") : NULL, true,
              false);
    csv_field(b, str(to, "name"), true, false);
    iso_utc(when, num(it, "created_at"));
    csv_field(b, when, false, false);
    iso_utc(when, num(it, "updated_at"));
    csv_field(b, when, false, false);
    /* history: "status date (reason); ..." */
    tbuf h = {0};
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(it, "history"))
    {
        if (h.len)
            tb_puts(&h, "; ");
        local_date(day, num(e, "at"));
        tb_printf(&h, "%s %s", str(e, "status") ? str(e, "status") : "", day);
        if (str(e, "reason"))
            tb_printf(&h, " (%s)", str(e, "reason"));
    }
    csv_field(b, h.failed ? NULL : h.p, true, false);
    free(h.p);
    csv_int(b, ratings, "satisfied");
    csv_int(b, ratings, "basically_satisfied");
    csv_int(b, ratings, "dissatisfied");
    csv_field(b, current, false, false);
    csv_field(b, str(it, "minutes_url"), false, false);
    tb_puts(b, "\r\n");
}

char *export_commitments_csv(const forum_state *st, int64_t program_id,
                             const forum_board_filter *filter, const char **bad_field,
                             size_t *len)
{
    char *json = forum_public_commitments(st, program_id, filter, bad_field);
    cJSON *doc = json ? cJSON_Parse(json) : NULL;
    free(json);
    if (!doc)
        return NULL;
    tbuf b = {0};
    tb_puts(&b, "\xEF\xBB\xBF");
    for (size_t i = 0; i < sizeof COMMITMENT_COLUMNS / sizeof COMMITMENT_COLUMNS[0]; i++)
        csv_field(&b, COMMITMENT_COLUMNS[i], false, i == 0);
    tb_puts(&b, "\r\n");
    const cJSON *chain, *f;
    cJSON_ArrayForEach(chain, cJSON_GetObjectItemCaseSensitive(doc, "commitments"))
    {
        const char *current = str(cJSON_GetObjectItemCaseSensitive(chain, "current"), "status");
        csv_commitment(&b, chain, current);
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(chain, "follow_ups"))
            csv_commitment(&b, f, current);
    }
    cJSON_Delete(doc);
    return tb_finish(&b, len);
}
