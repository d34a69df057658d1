PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
INSERT INTO migrations VALUES(1,'001_init.sql',1796473955784);
INSERT INTO migrations VALUES(2,'002_archive.sql',1796473955785);
INSERT INTO migrations VALUES(3,'003_search_per_commit.sql',1796473955785);
CREATE TABLE events (
    session    TEXT    NOT NULL,  -- join code; '' = the studio log (program.changed)
    seq        INTEGER NOT NULL,  -- per session, gap-free
    at         INTEGER NOT NULL,  -- ms epoch
    offset_ms  INTEGER,           -- ms since session.start; NULL before the session went live
    actor      TEXT    NOT NULL,  -- "viewer:<id>", "moderator:<name>", "producer", "system"
    kind       TEXT    NOT NULL,  -- "question.submitted", "votes.changed", ...
    payload    TEXT    NOT NULL,  -- JSON object, staff rendering
    audience   INTEGER NOT NULL,  -- forum_audience
    subject    TEXT,              -- viewer concerned, NULL if none
    request_id TEXT,              -- client request id (idempotent submits), NULL if none
    secret     TEXT,              -- JSON object or NULL: stored, never sent or exported
    PRIMARY KEY (session, seq)
);
INSERT INTO events VALUES('',1,1796473955821,NULL,'producer','program.changed','{"program":{"id":1,"title":"书记论坛","description":"区委书记与居民面对面的直播论坛"}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',1,1796473955823,NULL,'producer','session.changed','{"session":{"code":"5MUQXE","program_id":1,"program":"书记论坛","title":"第十二期：老旧小区改造与加装电梯","topic":"老旧小区改造、停车难与垃圾分类","status":"draft","premoderation":false,"anonymous_allowed":true,"scheduled_at":1796477555822,"started_at":null,"ended_at":null,"panelists":[{"id":1,"name":"王书记","affiliation":"区委","role":"区委书记"},{"id":2,"name":"李主任","affiliation":"区住建局","role":"局长"},{"id":3,"name":"张教授","affiliation":"城市规划学院","role":"特邀专家"}],"segments":[{"id":1,"title":"开场介绍"},{"id":2,"title":"民生热点"},{"id":3,"title":"现场互动"}],"blocked_words":["广告"],"question_rate_per_min":6}}',0,NULL,NULL,'{"moderator_key_hash":"cc341a0845981595ced3c8a7a07084da577c28b4afe66077bd46c4bf3356bc84"}');
INSERT INTO events VALUES('5MUQXE',2,1796473955824,NULL,'producer','session.changed','{"session":{"code":"5MUQXE","program_id":1,"program":"书记论坛","title":"第十二期：老旧小区改造与加装电梯","topic":"老旧小区改造、停车难与垃圾分类","status":"open","premoderation":false,"anonymous_allowed":true,"scheduled_at":1796477555822,"started_at":null,"ended_at":null,"panelists":[{"id":1,"name":"王书记","affiliation":"区委","role":"区委书记"},{"id":2,"name":"李主任","affiliation":"区住建局","role":"局长"},{"id":3,"name":"张教授","affiliation":"城市规划学院","role":"特邀专家"}],"segments":[{"id":1,"title":"开场介绍"},{"id":2,"title":"民生热点"},{"id":3,"title":"现场互动"}],"blocked_words":["广告"],"question_rate_per_min":6}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('',2,1796473955825,NULL,'producer','program.changed','{"program":{"id":1,"title":"书记论坛","description":"每周一期"}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('QY9L88',1,1796473955827,NULL,'producer','session.changed','{"session":{"code":"QY9L88","program_id":1,"program":"书记论坛","title":"第十三期：停车难","topic":"老旧小区改造、停车难与垃圾分类","status":"draft","premoderation":false,"anonymous_allowed":true,"scheduled_at":1797078755826,"started_at":null,"ended_at":null,"panelists":[{"id":1,"name":"王书记","affiliation":"区委","role":"区委书记"},{"id":2,"name":"李主任","affiliation":"区住建局","role":"局长"},{"id":3,"name":"张教授","affiliation":"城市规划学院","role":"特邀专家"}],"segments":[{"id":1,"title":"开场介绍"},{"id":2,"title":"民生热点"},{"id":3,"title":"现场互动"}],"blocked_words":[],"question_rate_per_min":6}}',0,NULL,NULL,'{"moderator_key_hash":"36d3126e1723665b29450eb18b39dfdf35569d4f3a39761af868a65e3cb7d26e"}');
INSERT INTO events VALUES('QY9L88',2,1796473955828,NULL,'producer','session.changed','{"session":{"code":"QY9L88","program_id":1,"program":"书记论坛","title":"第十三期：停车难","topic":"老旧小区改造、停车难与垃圾分类","status":"open","premoderation":false,"anonymous_allowed":true,"scheduled_at":1797078755826,"started_at":null,"ended_at":null,"panelists":[{"id":1,"name":"王书记","affiliation":"区委","role":"区委书记"},{"id":2,"name":"李主任","affiliation":"区住建局","role":"局长"},{"id":3,"name":"张教授","affiliation":"城市规划学院","role":"特邀专家"}],"segments":[{"id":1,"title":"开场介绍"},{"id":2,"title":"民生热点"},{"id":3,"title":"现场互动"}],"blocked_words":[],"question_rate_per_min":6}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',3,1796473955841,0,'producer','session.changed','{"session":{"code":"5MUQXE","program_id":1,"program":"书记论坛","title":"第十二期：老旧小区改造与加装电梯","topic":"老旧小区改造、停车难与垃圾分类","status":"live","premoderation":false,"anonymous_allowed":true,"scheduled_at":1796477555822,"started_at":1796473955841,"ended_at":null,"panelists":[{"id":1,"name":"王书记","affiliation":"区委","role":"区委书记"},{"id":2,"name":"李主任","affiliation":"区住建局","role":"局长"},{"id":3,"name":"张教授","affiliation":"城市规划学院","role":"特邀专家"}],"segments":[{"id":1,"title":"开场介绍"},{"id":2,"title":"民生热点"},{"id":3,"title":"现场互动"}],"blocked_words":["广告"],"question_rate_per_min":6}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',4,1796473955842,1,'viewer:vaebebc4f8d9307e3','question.submitted','{"question":{"id":1,"session":"5MUQXE","text":"老旧小区加装电梯，补贴怎么申请？","author":"王阿姨","category":"question","to":2,"parent_id":null,"state":"published","votes":0,"created_at":1796473955842,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',1,'vaebebc4f8d9307e3','viewer-王阿姨-ce12ef-13',NULL);
INSERT INTO events VALUES('5MUQXE',5,1796473955842,1,'viewer:vaebebc4f8d9307e3','question.published','{"question":{"id":1,"session":"5MUQXE","text":"老旧小区加装电梯，补贴怎么申请？","author":"王阿姨","category":"question","to":2,"parent_id":null,"state":"published","votes":0,"created_at":1796473955842,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',0,'vaebebc4f8d9307e3',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',6,1796473955844,3,'viewer:xd3f7e293ca08c90e','question.submitted','{"question":{"id":2,"session":"5MUQXE","text":"停车位太少了，晚上回家没地方停","":null,"category":"need","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955844,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}}',1,'xd3f7e293ca08c90e',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',7,1796473955844,3,'viewer:xd3f7e293ca08c90e','question.published','{"question":{"id":2,"session":"5MUQXE","text":"停车位太少了，晚上回家没地方停","":null,"category":"need","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955844,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}}',0,'xd3f7e293ca08c90e',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',8,1796473955845,4,'viewer:v9a1cc98dbbc59f85','question.submitted','{"question":{"id":3,"session":"5MUQXE","text":"建议菜市场延长营业时间","author":null,"category":"suggestion","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955845,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"v9a1cc98dbbc59f85"}}',1,'v9a1cc98dbbc59f85','viewer--ce12ef-15',NULL);
INSERT INTO events VALUES('5MUQXE',9,1796473955845,4,'viewer:v9a1cc98dbbc59f85','question.published','{"question":{"id":3,"session":"5MUQXE","text":"建议菜市场延长营业时间","author":null,"category":"suggestion","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955845,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"v9a1cc98dbbc59f85"}}',0,'v9a1cc98dbbc59f85',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',10,1796473955846,5,'viewer:xd3f7e293ca08c90e','question.submitted','{"question":{"id":4,"session":"5MUQXE","text":"这里有广告","":null,"category":"question","to":null,"parent_id":null,"state":"pending","votes":0,"created_at":1796473955846,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}}',1,'xd3f7e293ca08c90e',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',11,1796473955847,6,'viewer:vaebebc4f8d9307e3','question.submitted','{"question":{"id":5,"session":"5MUQXE","text":"加装电梯补贴在哪里申请？","author":"王阿姨","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955847,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',1,'vaebebc4f8d9307e3','viewer-王阿姨-ce12ef-17',NULL);
INSERT INTO events VALUES('5MUQXE',12,1796473955847,6,'viewer:vaebebc4f8d9307e3','question.published','{"question":{"id":5,"session":"5MUQXE","text":"加装电梯补贴在哪里申请？","author":"王阿姨","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955847,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',0,'vaebebc4f8d9307e3',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',13,1796473955848,7,'moderator:主持人甲','question.submitted','{"question":{"id":6,"session":"5MUQXE","text":"热线来电：供暖不热","author":"张师傅","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955848,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"phone","carried_from":null,"merged_into":null,"viewer_id":null}}',1,NULL,'moderator-主持-ce12ef-18',NULL);
INSERT INTO events VALUES('5MUQXE',14,1796473955848,7,'moderator:主持人甲','question.published','{"question":{"id":6,"session":"5MUQXE","text":"热线来电：供暖不热","author":"张师傅","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955848,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"phone","carried_from":null,"merged_into":null,"viewer_id":null}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',15,1796473955848,7,'viewer:xd3f7e293ca08c90e','vote.added','{"question_id":1}',3,'xd3f7e293ca08c90e',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',16,1796473955849,8,'viewer:v9a1cc98dbbc59f85','vote.added','{"question_id":1}',3,'v9a1cc98dbbc59f85',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',17,1796473955850,9,'viewer:vaebebc4f8d9307e3','vote.added','{"question_id":2}',3,'vaebebc4f8d9307e3',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',18,1796473955851,10,'viewer:v9a1cc98dbbc59f85','vote.added','{"question_id":5}',3,'v9a1cc98dbbc59f85',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',19,1796473955852,11,'viewer:v9a1cc98dbbc59f85','vote.removed','{"question_id":1}',3,'v9a1cc98dbbc59f85',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',20,1796473955852,11,'moderator:主持人甲','question.published','{"question":{"id":4,"session":"5MUQXE","text":"这里有广告","":null,"category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955846,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}}',0,'xd3f7e293ca08c90e',NULL,'{"undo":{"action":"approve","questions":[{"id":4,"session":"5MUQXE","text":"这里有广告","":null,"category":"question","to":null,"parent_id":null,"state":"pending","votes":0,"created_at":1796473955846,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}],"after":[{"id":4,"state":"published"}]}}');
INSERT INTO events VALUES('5MUQXE',21,1796473955853,12,'moderator:主持人甲','question.updated','{"question":{"id":2,"session":"5MUQXE","text":"停车位太少了，晚上回家没地方停","":null,"category":"need","to":null,"parent_id":null,"state":"published","votes":1,"created_at":1796473955844,"phase":"live","answer_note":null,"starred":true,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}}',0,'xd3f7e293ca08c90e',NULL,'{"undo":{"action":"star","questions":[{"id":2,"session":"5MUQXE","text":"停车位太少了，晚上回家没地方停","":null,"category":"need","to":null,"parent_id":null,"state":"published","votes":1,"created_at":1796473955844,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}],"after":[]}}');
INSERT INTO events VALUES('5MUQXE',22,1796473955854,13,'moderator:主持人甲','question.updated','{"question":{"id":3,"session":"5MUQXE","text":"建议菜市场延长营业时间到晚上八点","author":null,"category":"suggestion","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955845,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"v9a1cc98dbbc59f85"}}',0,'v9a1cc98dbbc59f85',NULL,'{"undo":{"action":"edit","questions":[{"id":3,"session":"5MUQXE","text":"建议菜市场延长营业时间","author":null,"category":"suggestion","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955845,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"v9a1cc98dbbc59f85"}],"after":[]}}');
INSERT INTO events VALUES('5MUQXE',23,1796473955855,14,'moderator:主持人甲','vote.removed','{"question_id":5}',3,'v9a1cc98dbbc59f85',NULL,'{"undo":{"action":"merge","questions":[{"id":5,"session":"5MUQXE","text":"加装电梯补贴在哪里申请？","author":"王阿姨","category":"question","to":null,"parent_id":null,"state":"published","votes":1,"created_at":1796473955847,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}],"after":[{"id":5,"state":"dismissed"}],"merge":{"from":5,"into":1,"voters":["v9a1cc98dbbc59f85"],"moved":["v9a1cc98dbbc59f85"]}}}');
INSERT INTO events VALUES('5MUQXE',24,1796473955855,14,'moderator:主持人甲','vote.added','{"question_id":1}',3,'v9a1cc98dbbc59f85',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',25,1796473955855,14,'moderator:主持人甲','question.merged','{"question":{"id":5,"session":"5MUQXE","text":"加装电梯补贴在哪里申请？","author":"王阿姨","category":"question","to":null,"parent_id":null,"state":"dismissed","votes":0,"created_at":1796473955847,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":1,"viewer_id":"vaebebc4f8d9307e3"},"into":{"id":1,"session":"5MUQXE","text":"老旧小区加装电梯，补贴怎么申请？","author":"王阿姨","category":"question","to":2,"parent_id":null,"state":"published","votes":2,"created_at":1796473955842,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',0,'vaebebc4f8d9307e3',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',26,1796473955856,15,'moderator:主持人甲','queue.changed','{"up_next":[2,6]}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',27,1796473955857,16,'moderator:主持人甲','question.updated','{"question":{"id":1,"session":"5MUQXE","text":"老旧小区加装电梯，补贴怎么申请？","author":"王阿姨","category":"question","to":2,"parent_id":null,"state":"on_air","votes":2,"created_at":1796473955842,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',0,'vaebebc4f8d9307e3',NULL,'{"undo":{"action":"onair","questions":[{"id":1,"session":"5MUQXE","text":"老旧小区加装电梯，补贴怎么申请？","author":"王阿姨","category":"question","to":2,"parent_id":null,"state":"published","votes":2,"created_at":1796473955842,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}],"after":[{"id":1,"state":"on_air"}],"air_before":0,"air_after":1}}');
INSERT INTO events VALUES('5MUQXE',28,1796473955857,16,'moderator:主持人甲','onair.changed','{"question_id":1}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',29,1796473955858,17,'moderator:主持人甲','panel.changed','{"panel":{"speaker_ids":[2],"on_air":1,"up_next":[2,6],"segment_id":2,"banner":"正在回答：加装电梯"}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',30,1796473955859,18,'moderator:主持人甲','question.answered','{"question":{"id":1,"session":"5MUQXE","text":"老旧小区加装电梯，补贴怎么申请？","author":"王阿姨","category":"question","to":2,"parent_id":null,"state":"answered","votes":2,"created_at":1796473955842,"phase":"live","answer_note":"区住建局下月公布补贴细则","starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',0,'vaebebc4f8d9307e3',NULL,'{"undo":{"action":"answered","questions":[{"id":1,"session":"5MUQXE","text":"老旧小区加装电梯，补贴怎么申请？","author":"王阿姨","category":"question","to":2,"parent_id":null,"state":"on_air","votes":2,"created_at":1796473955842,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}],"after":[{"id":1,"state":"answered"}],"air_before":1,"air_after":0}}');
INSERT INTO events VALUES('5MUQXE',31,1796473955859,18,'moderator:主持人甲','onair.changed','{"question_id":null}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',32,1796473955860,19,'moderator:主持人甲','question.updated','{"question":{"id":2,"session":"5MUQXE","text":"停车位太少了，晚上回家没地方停","":null,"category":"need","to":null,"parent_id":null,"state":"on_air","votes":1,"created_at":1796473955844,"phase":"live","answer_note":null,"starred":true,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}}',0,'xd3f7e293ca08c90e',NULL,'{"undo":{"action":"onair","questions":[{"id":2,"session":"5MUQXE","text":"停车位太少了，晚上回家没地方停","":null,"category":"need","to":null,"parent_id":null,"state":"published","votes":1,"created_at":1796473955844,"phase":"live","answer_note":null,"starred":true,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}],"after":[{"id":2,"state":"on_air"}],"air_before":0,"air_after":2}}');
INSERT INTO events VALUES('5MUQXE',33,1796473955860,19,'moderator:主持人甲','queue.changed','{"up_next":[6]}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',34,1796473955860,19,'moderator:主持人甲','onair.changed','{"question_id":2}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',35,1796473955860,19,'moderator:主持人甲','question.updated','{"question":{"id":2,"session":"5MUQXE","text":"停车位太少了，晚上回家没地方停","":null,"category":"need","to":null,"parent_id":null,"state":"published","votes":1,"created_at":1796473955844,"phase":"live","answer_note":null,"starred":true,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}}',0,'xd3f7e293ca08c90e',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',36,1796473955860,19,'moderator:主持人甲','onair.changed','{"question_id":null}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',37,1796473955861,20,'moderator:主持人甲','question.dismissed','{"question":{"id":4,"session":"5MUQXE","text":"这里有广告","":null,"category":"question","to":null,"parent_id":null,"state":"dismissed","votes":0,"created_at":1796473955846,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"},"reason":"广告"}',0,'xd3f7e293ca08c90e',NULL,'{"undo":{"action":"dismiss","questions":[{"id":4,"session":"5MUQXE","text":"这里有广告","":null,"category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955846,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}],"after":[{"id":4,"state":"dismissed"}]}}');
INSERT INTO events VALUES('5MUQXE',38,1796473955862,21,'moderator:主持人甲','question.updated','{"question":{"id":4,"session":"5MUQXE","text":"这里有广告","":null,"category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955846,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"},"undo":true}',0,'xd3f7e293ca08c90e',NULL,'{"undo_clear":true}');
INSERT INTO events VALUES('5MUQXE',39,1796473955864,23,'moderator:主持人甲','question.dismissed','{"question":{"id":4,"session":"5MUQXE","text":"这里有广告","":null,"category":"question","to":null,"parent_id":null,"state":"dismissed","votes":0,"created_at":1796473955846,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"},"reason":"广告"}',0,'xd3f7e293ca08c90e',NULL,'{"undo":{"action":"dismiss","questions":[{"id":4,"session":"5MUQXE","text":"这里有广告","":null,"category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955846,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}],"after":[{"id":4,"state":"dismissed"}]}}');
INSERT INTO events VALUES('5MUQXE',40,1796473955867,26,'viewer:vaebebc4f8d9307e3','question.submitted','{"question":{"id":7,"session":"5MUQXE","text":"那补贴有上限吗？","author":"王阿姨","category":"question","to":null,"parent_id":1,"state":"published","votes":0,"created_at":1796473955867,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',1,'vaebebc4f8d9307e3','viewer-王阿姨-ce12ef-37',NULL);
INSERT INTO events VALUES('5MUQXE',41,1796473955867,26,'viewer:vaebebc4f8d9307e3','question.published','{"question":{"id":7,"session":"5MUQXE","text":"那补贴有上限吗？","author":"王阿姨","category":"question","to":null,"parent_id":1,"state":"published","votes":0,"created_at":1796473955867,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',0,'vaebebc4f8d9307e3',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',42,1796473955868,27,'moderator:主持人甲','poll.changed','{"poll":{"id":1,"title":"您最关心哪个问题？","options":[{"id":1,"text":"电梯","votes":0},{"id":2,"text":"停车","votes":0},{"id":3,"text":"菜场","votes":0}],"multi":false,"state":"draft"}}',2,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',43,1796473955869,28,'moderator:主持人甲','poll.changed','{"poll":{"id":1,"title":"您最关心哪个问题？","options":[{"id":1,"text":"电梯","votes":0},{"id":2,"text":"停车","votes":0},{"id":3,"text":"菜场","votes":0}],"multi":false,"state":"open"}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',44,1796473955870,29,'viewer:vaebebc4f8d9307e3','poll.voted','{"poll_id":1,"option_ids":[1]}',3,'vaebebc4f8d9307e3',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',45,1796473955871,30,'viewer:xd3f7e293ca08c90e','poll.voted','{"poll_id":1,"option_ids":[2]}',3,'xd3f7e293ca08c90e',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',46,1796473955872,31,'moderator:主持人甲','poll.changed','{"poll":{"id":1,"title":"您最关心哪个问题？","options":[{"id":1,"text":"电梯","votes":1},{"id":2,"text":"停车","votes":1},{"id":3,"text":"菜场","votes":0}],"multi":false,"state":"closed"}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',47,1796473955872,31,'moderator:主持人甲','viewer.banned','{"viewer_id":"v9a1cc98dbbc59f85"}',2,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',48,1796473955873,32,'moderator:主持人甲','viewer.unbanned','{"viewer_id":"v9a1cc98dbbc59f85"}',2,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',49,1796473955873,32,'system','votes.changed','{"counts":{"1":2,"2":1,"5":0}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',50,1796473955873,32,'system','viewers.peak','{"viewers":3}',2,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',51,1796473955874,33,'moderator:主持人甲','viewer.banned','{"viewer_id":"v9a1cc98dbbc59f85"}',2,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',52,1796473955875,34,'moderator:主持人甲','action.changed','{"action":{"id":1,"session":"5MUQXE","question_id":1,"text":"公布加装电梯补贴细则","owner":"区住建局","due":"2027-01-31","status":"open","created_at":1796473955875,"updated_at":1796473955875}}',2,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',53,1796473955876,35,'moderator:主持人甲','action.changed','{"action":{"id":1,"session":"5MUQXE","question_id":1,"text":"公布加装电梯补贴细则","owner":"区住建局","due":"2027-01-31","status":"in_progress","created_at":1796473955875,"updated_at":1796473955876}}',2,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',54,1796473955876,35,'viewer:xd3f7e293ca08c90e','question.withdrawn','{"question":{"id":2,"session":"5MUQXE","text":"停车位太少了，晚上回家没地方停","":null,"category":"need","to":null,"parent_id":null,"state":"withdrawn","votes":1,"created_at":1796473955844,"phase":"live","answer_note":null,"starred":true,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}}',0,'xd3f7e293ca08c90e',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',55,1796473956179,338,'producer','viewer.erased','{"questions":[{"id":2,"session":"5MUQXE","text":"停车位太少了，晚上回家没地方停","author":null,"category":"need","to":null,"parent_id":null,"state":"withdrawn","votes":1,"created_at":1796473955844,"phase":"live","answer_note":null,"starred":true,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"},{"id":4,"session":"5MUQXE","text":"这里有广告","author":null,"category":"question","to":null,"parent_id":null,"state":"dismissed","votes":0,"created_at":1796473955846,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}],"viewer_id":"xd3f7e293ca08c90e"}',2,NULL,NULL,NULL);
INSERT INTO events VALUES('5MUQXE',56,1796473956182,341,'producer','session.changed','{"session":{"code":"5MUQXE","program_id":1,"program":"书记论坛","title":"第十二期：老旧小区改造与加装电梯","topic":"老旧小区改造、停车难与垃圾分类","status":"ended","premoderation":false,"anonymous_allowed":true,"scheduled_at":1796477555822,"started_at":1796473955841,"ended_at":1796473956182,"panelists":[{"id":1,"name":"王书记","affiliation":"区委","role":"区委书记"},{"id":2,"name":"李主任","affiliation":"区住建局","role":"局长"},{"id":3,"name":"张教授","affiliation":"城市规划学院","role":"特邀专家"}],"segments":[{"id":1,"title":"开场介绍"},{"id":2,"title":"民生热点"},{"id":3,"title":"现场互动"}],"blocked_words":["广告"],"question_rate_per_min":6}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('QY9L88',3,1796473956184,NULL,'producer','question.submitted','{"question":{"id":8,"session":"QY9L88","text":"建议菜市场延长营业时间到晚上八点","author":null,"category":"suggestion","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473956184,"phase":"pre","answer_note":null,"starred":false,"mine":false,"source":"carried","carried_from":"5MUQXE","carried_question_id":3,"merged_into":null,"viewer_id":"v9a1cc98dbbc59f85"}}',1,'v9a1cc98dbbc59f85',NULL,NULL);
INSERT INTO events VALUES('QY9L88',4,1796473956184,NULL,'producer','question.published','{"question":{"id":8,"session":"QY9L88","text":"建议菜市场延长营业时间到晚上八点","author":null,"category":"suggestion","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473956184,"phase":"pre","answer_note":null,"starred":false,"mine":false,"source":"carried","carried_from":"5MUQXE","carried_question_id":3,"merged_into":null,"viewer_id":"v9a1cc98dbbc59f85"}}',0,'v9a1cc98dbbc59f85',NULL,NULL);
INSERT INTO events VALUES('QY9L88',5,1796473956184,NULL,'producer','question.submitted','{"question":{"id":9,"session":"QY9L88","text":"热线来电：供暖不热","author":"张师傅","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473956184,"phase":"pre","answer_note":null,"starred":false,"mine":false,"source":"carried","carried_from":"5MUQXE","carried_question_id":6,"merged_into":null,"viewer_id":null}}',1,NULL,NULL,NULL);
INSERT INTO events VALUES('QY9L88',6,1796473956184,NULL,'producer','question.published','{"question":{"id":9,"session":"QY9L88","text":"热线来电：供暖不热","author":"张师傅","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473956184,"phase":"pre","answer_note":null,"starred":false,"mine":false,"source":"carried","carried_from":"5MUQXE","carried_question_id":6,"merged_into":null,"viewer_id":null}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('QY9L88',7,1796473956184,NULL,'producer','question.submitted','{"question":{"id":10,"session":"QY9L88","text":"那补贴有上限吗？","author":"王阿姨","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473956184,"phase":"pre","answer_note":null,"starred":false,"mine":false,"source":"carried","carried_from":"5MUQXE","carried_question_id":7,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',1,'vaebebc4f8d9307e3',NULL,NULL);
INSERT INTO events VALUES('QY9L88',8,1796473956184,NULL,'producer','question.published','{"question":{"id":10,"session":"QY9L88","text":"那补贴有上限吗？","author":"王阿姨","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473956184,"phase":"pre","answer_note":null,"starred":false,"mine":false,"source":"carried","carried_from":"5MUQXE","carried_question_id":7,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}}',0,'vaebebc4f8d9307e3',NULL,NULL);
INSERT INTO events VALUES('5MUQXE',57,1796473956186,345,'producer','session.changed','{"session":{"code":"5MUQXE","program_id":1,"program":"书记论坛","title":"第十二期：老旧小区改造与加装电梯","topic":"老旧小区改造、停车难与垃圾分类","status":"archived","premoderation":false,"anonymous_allowed":true,"scheduled_at":1796477555822,"started_at":1796473955841,"ended_at":1796473956182,"panelists":[{"id":1,"name":"王书记","affiliation":"区委","role":"区委书记"},{"id":2,"name":"李主任","affiliation":"区住建局","role":"局长"},{"id":3,"name":"张教授","affiliation":"城市规划学院","role":"特邀专家"}],"segments":[{"id":1,"title":"开场介绍"},{"id":2,"title":"民生热点"},{"id":3,"title":"现场互动"}],"blocked_words":["广告"],"question_rate_per_min":6}}',0,NULL,NULL,NULL);
INSERT INTO events VALUES('QY9L88',9,1796473956187,NULL,'producer','session.changed','{"session":{"code":"QY9L88","program_id":1,"program":"书记论坛","title":"第十三期：停车难","topic":"老旧小区改造、停车难与垃圾分类","status":"open","premoderation":false,"anonymous_allowed":true,"scheduled_at":1797078755826,"started_at":null,"ended_at":null,"panelists":[{"id":1,"name":"王书记","affiliation":"区委","role":"区委书记"},{"id":2,"name":"李主任","affiliation":"区住建局","role":"局长"},{"id":3,"name":"张教授","affiliation":"城市规划学院","role":"特邀专家"}],"segments":[{"id":1,"title":"开场介绍"},{"id":2,"title":"民生热点"},{"id":3,"title":"现场互动"}],"blocked_words":[],"question_rate_per_min":6}}',0,NULL,NULL,'{"moderator_key_hash":"64a8aabfcd3f1a261c0375a5540c0b8b88cbb04437ee49eb67c2b13fc2a1be1b"}');
CREATE TABLE programs (
    id          INTEGER PRIMARY KEY,
    title       TEXT,
    description TEXT,
    json        TEXT,             -- whole program object
    updated_at  INTEGER NOT NULL
);
INSERT INTO programs VALUES(1,'书记论坛','每周一期','{"id":1,"title":"书记论坛","description":"每周一期"}',1796473955825);
CREATE TABLE sessions (
    code         TEXT PRIMARY KEY,
    program_id   INTEGER,
    title        TEXT,
    topic        TEXT,
    status       TEXT,
    scheduled_at INTEGER,
    started_at   INTEGER,
    ended_at     INTEGER,
    json         TEXT,            -- whole session object
    updated_at   INTEGER NOT NULL
);
INSERT INTO sessions VALUES('5MUQXE',1,'第十二期：老旧小区改造与加装电梯','老旧小区改造、停车难与垃圾分类','archived',1796477555822,1796473955841,1796473956182,'{"code":"5MUQXE","program_id":1,"program":"书记论坛","title":"第十二期：老旧小区改造与加装电梯","topic":"老旧小区改造、停车难与垃圾分类","status":"archived","premoderation":false,"anonymous_allowed":true,"scheduled_at":1796477555822,"started_at":1796473955841,"ended_at":1796473956182,"panelists":[{"id":1,"name":"王书记","affiliation":"区委","role":"区委书记"},{"id":2,"name":"李主任","affiliation":"区住建局","role":"局长"},{"id":3,"name":"张教授","affiliation":"城市规划学院","role":"特邀专家"}],"segments":[{"id":1,"title":"开场介绍"},{"id":2,"title":"民生热点"},{"id":3,"title":"现场互动"}],"blocked_words":["广告"],"question_rate_per_min":6}',1796473956186);
INSERT INTO sessions VALUES('QY9L88',1,'第十三期：停车难','老旧小区改造、停车难与垃圾分类','open',1797078755826,NULL,NULL,'{"code":"QY9L88","program_id":1,"program":"书记论坛","title":"第十三期：停车难","topic":"老旧小区改造、停车难与垃圾分类","status":"open","premoderation":false,"anonymous_allowed":true,"scheduled_at":1797078755826,"started_at":null,"ended_at":null,"panelists":[{"id":1,"name":"王书记","affiliation":"区委","role":"区委书记"},{"id":2,"name":"李主任","affiliation":"区住建局","role":"局长"},{"id":3,"name":"张教授","affiliation":"城市规划学院","role":"特邀专家"}],"segments":[{"id":1,"title":"开场介绍"},{"id":2,"title":"民生热点"},{"id":3,"title":"现场互动"}],"blocked_words":[],"question_rate_per_min":6}',1796473956187);
CREATE TABLE questions (
    id          INTEGER PRIMARY KEY,
    session     TEXT NOT NULL,
    state       TEXT,
    category    TEXT,
    text        TEXT,
    author      TEXT,
    to_panelist INTEGER,
    parent_id   INTEGER,
    votes       INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER,
    phase       TEXT,
    answer_note TEXT,
    starred     INTEGER NOT NULL DEFAULT 0,
    source      TEXT,
    viewer_id   TEXT,
    json        TEXT,             -- whole question object (staff rendering)
    updated_at  INTEGER NOT NULL
);
INSERT INTO questions VALUES(1,'5MUQXE','answered','question','老旧小区加装电梯，补贴怎么申请？','王阿姨',2,NULL,2,1796473955842,'live','区住建局下月公布补贴细则',0,'web','vaebebc4f8d9307e3','{"id":1,"session":"5MUQXE","text":"老旧小区加装电梯，补贴怎么申请？","author":"王阿姨","category":"question","to":2,"parent_id":null,"state":"answered","votes":2,"created_at":1796473955842,"phase":"live","answer_note":"区住建局下月公布补贴细则","starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}',1796473955873);
INSERT INTO questions VALUES(2,'5MUQXE','withdrawn','need','停车位太少了，晚上回家没地方停',NULL,NULL,NULL,1,1796473955844,'live',NULL,1,'web','xd3f7e293ca08c90e','{"id":2,"session":"5MUQXE","text":"停车位太少了，晚上回家没地方停","author":null,"category":"need","to":null,"parent_id":null,"state":"withdrawn","votes":1,"created_at":1796473955844,"phase":"live","answer_note":null,"starred":true,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}',1796473956179);
INSERT INTO questions VALUES(3,'5MUQXE','published','suggestion','建议菜市场延长营业时间到晚上八点',NULL,NULL,NULL,0,1796473955845,'live',NULL,0,'web','v9a1cc98dbbc59f85','{"id":3,"session":"5MUQXE","text":"建议菜市场延长营业时间到晚上八点","author":null,"category":"suggestion","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955845,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"v9a1cc98dbbc59f85"}',1796473955854);
INSERT INTO questions VALUES(4,'5MUQXE','dismissed','question','这里有广告',NULL,NULL,NULL,0,1796473955846,'live',NULL,0,'web','xd3f7e293ca08c90e','{"id":4,"session":"5MUQXE","text":"这里有广告","author":null,"category":"question","to":null,"parent_id":null,"state":"dismissed","votes":0,"created_at":1796473955846,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"xd3f7e293ca08c90e"}',1796473956179);
INSERT INTO questions VALUES(5,'5MUQXE','dismissed','question','加装电梯补贴在哪里申请？','王阿姨',NULL,NULL,0,1796473955847,'live',NULL,0,'web','vaebebc4f8d9307e3','{"id":5,"session":"5MUQXE","text":"加装电梯补贴在哪里申请？","author":"王阿姨","category":"question","to":null,"parent_id":null,"state":"dismissed","votes":0,"created_at":1796473955847,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":1,"viewer_id":"vaebebc4f8d9307e3"}',1796473955873);
INSERT INTO questions VALUES(6,'5MUQXE','published','question','热线来电：供暖不热','张师傅',NULL,NULL,0,1796473955848,'live',NULL,0,'phone',NULL,'{"id":6,"session":"5MUQXE","text":"热线来电：供暖不热","author":"张师傅","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473955848,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"phone","carried_from":null,"merged_into":null,"viewer_id":null}',1796473955848);
INSERT INTO questions VALUES(7,'5MUQXE','published','question','那补贴有上限吗？','王阿姨',NULL,1,0,1796473955867,'live',NULL,0,'web','vaebebc4f8d9307e3','{"id":7,"session":"5MUQXE","text":"那补贴有上限吗？","author":"王阿姨","category":"question","to":null,"parent_id":1,"state":"published","votes":0,"created_at":1796473955867,"phase":"live","answer_note":null,"starred":false,"mine":false,"source":"web","carried_from":null,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}',1796473955867);
INSERT INTO questions VALUES(8,'QY9L88','published','suggestion','建议菜市场延长营业时间到晚上八点',NULL,NULL,NULL,0,1796473956184,'pre',NULL,0,'carried','v9a1cc98dbbc59f85','{"id":8,"session":"QY9L88","text":"建议菜市场延长营业时间到晚上八点","author":null,"category":"suggestion","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473956184,"phase":"pre","answer_note":null,"starred":false,"mine":false,"source":"carried","carried_from":"5MUQXE","carried_question_id":3,"merged_into":null,"viewer_id":"v9a1cc98dbbc59f85"}',1796473956184);
INSERT INTO questions VALUES(9,'QY9L88','published','question','热线来电：供暖不热','张师傅',NULL,NULL,0,1796473956184,'pre',NULL,0,'carried',NULL,'{"id":9,"session":"QY9L88","text":"热线来电：供暖不热","author":"张师傅","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473956184,"phase":"pre","answer_note":null,"starred":false,"mine":false,"source":"carried","carried_from":"5MUQXE","carried_question_id":6,"merged_into":null,"viewer_id":null}',1796473956184);
INSERT INTO questions VALUES(10,'QY9L88','published','question','那补贴有上限吗？','王阿姨',NULL,NULL,0,1796473956184,'pre',NULL,0,'carried','vaebebc4f8d9307e3','{"id":10,"session":"QY9L88","text":"那补贴有上限吗？","author":"王阿姨","category":"question","to":null,"parent_id":null,"state":"published","votes":0,"created_at":1796473956184,"phase":"pre","answer_note":null,"starred":false,"mine":false,"source":"carried","carried_from":"5MUQXE","carried_question_id":7,"merged_into":null,"viewer_id":"vaebebc4f8d9307e3"}',1796473956184);
CREATE TABLE votes (
    session     TEXT    NOT NULL,
    question_id INTEGER NOT NULL,
    viewer_id   TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (question_id, viewer_id)
) WITHOUT ROWID;
INSERT INTO votes VALUES('5MUQXE',1,'v9a1cc98dbbc59f85',1796473955855);
INSERT INTO votes VALUES('5MUQXE',1,'xd3f7e293ca08c90e',1796473955848);
INSERT INTO votes VALUES('5MUQXE',2,'vaebebc4f8d9307e3',1796473955850);
CREATE TABLE polls (
    id         INTEGER PRIMARY KEY,
    session    TEXT NOT NULL,
    state      TEXT,
    json       TEXT,              -- whole poll object
    updated_at INTEGER NOT NULL
);
INSERT INTO polls VALUES(1,'5MUQXE','closed','{"id":1,"title":"您最关心哪个问题？","options":[{"id":1,"text":"电梯","votes":1},{"id":2,"text":"停车","votes":1},{"id":3,"text":"菜场","votes":0}],"multi":false,"state":"closed"}',1796473955872);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta VALUES('producer_key_hash','e5e9ff3b7a8f35a589806a2c43ebe673f748f925159064ca832fe9b68c3d468d');
CREATE TABLE actions (
    id          INTEGER PRIMARY KEY,
    session     TEXT NOT NULL,    -- the session it was made in
    question_id INTEGER,          -- the question it answers, NULL if none
    text        TEXT,
    owner       TEXT,
    due         TEXT,             -- 'YYYY-MM-DD' or NULL
    status      TEXT,             -- open | in_progress | done
    created_at  INTEGER,
    json        TEXT,             -- whole action object
    updated_at  INTEGER NOT NULL
);
INSERT INTO actions VALUES(1,'5MUQXE',1,'公布加装电梯补贴细则','区住建局','2027-01-31','in_progress',1796473955875,'{"id":1,"session":"5MUQXE","question_id":1,"text":"公布加装电梯补贴细则","owner":"区住建局","due":"2027-01-31","status":"in_progress","created_at":1796473955875,"updated_at":1796473955876}',1796473955876);
PRAGMA writable_schema=ON;
INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES('table','search_index','search_index',0,'CREATE VIRTUAL TABLE search_index USING fts5 (body, tokenize = ''trigram'')');
CREATE TABLE IF NOT EXISTS 'search_index_data'(id INTEGER PRIMARY KEY, block BLOB);
INSERT INTO search_index_data VALUES(1,X'0c70');
INSERT INTO search_index_data VALUES(10,X'000000000104040004010101020101030101040101');
INSERT INTO search_index_data VALUES(137438953473,X'000000700a30e585ace5b883e58aa006020202088aa0e8a385e794b50602040208b883e58aa0e8a3850602030109e6a2afe8a1a5e8b4b40602070109e794b5e6a2afe8a1a50602060109e8a1a5e8b4b4e7bb860602080208a385e794b5e6a2af0602050208b4b4e7bb86e58899060209040e0d0d0e0e0e0d');
INSERT INTO search_index_data VALUES(274877906945,X'000003220a30e4b88ae585abe782b90c020f05059b9ee5aeb608020a0406e99990e590971c020603079ae697b6e997b40c020a0208b988e794b3e8afb704020e0208ba86efbc8ce6999a0802070208bd8de5a4aae5b0910802040208be9be69a96e4b88d1802070109e5819ce8bda6e4bd8d080202020888b0e6999ae4b88a0c020d02088aa0e8a385e794b504020610020202088cbae58aa0e8a385040205020893aae9878ce794b314020902089b9ee5aeb6e6b2a108020b02089ca8e593aae9878c1402080307b0e696b9e5819c08020e0307bae5bbb6e995bf0c02060208a4aae5b091e4ba860802050208aeb6e6b2a1e59cb008020c0208b08fe58cbae58aa0040204030791e4ba86efbc8c0802060208b882e59cbae5bbb60c02050208bbb6e995bfe890a50c02070307bae8aeaee88f9c0c02020109e6808ee4b988e794b304020d020897a7e5b08fe58cba0402030307b6e997b4e588b00c020b0208999ae4b88ae585ab0c020e08029b9e08020902089a96e4b88de783ad18020802089c89e4b88ae999901c02050406e5b9bfe5918a10020402089da5e794b5efbc9a1802040208a2afe8a1a5e8b4b41402050406efbc8ce8a1a50402090208b2a1e59cb0e696b908020d0109e783ade7babfe69da5180202020894b3e8afb7efbc9f04020f10020b0307b5e6a2afe8a1a51402040703efbc8c0402080406efbc9ae4be9b1802050208babfe69da5e794b51802030109e88081e697a7e5b08f04020202088f9ce5b882e59cba0c0204020890a5e4b89ae697b60c02090208a1a5e8b4b4e59ca81402060703e6808e04020b08029c891c02030208a385e794b5e6a2af0402071002030208aeaee88f9ce5b8820c02030208b4b4e59ca8e593aa1402070406e6808ee4b98804020c05059c89e4b88a1c02040208bda6e4bd8de5a4aa0802030208bf99e9878ce69c891002020109e982a3e8a1a5e8b4b41c02020208878ce69c89e5b9bf1002030406e794b3e8afb714020a020895bfe890a5e4b89a0c0208020897b4e588b0e6999a0c020c02089990e59097efbc9f1c02070109efbc8ce6999ae4b88a0802080406e8a1a5e8b4b404020a03079ae4be9be69a96180206040e0a0b0c0d0d0d0d0e0d100d0d0d0d0c0c0d0d0d0c0d0d0c0e0d0c0d070d0d0b0d0d0b0d0e100c080b0d0e0d0d0d0807100d0d0b0a0d0d0e0d0b0d0d0d0e0b');
INSERT INTO search_index_data VALUES(412316860417,X'0000008a0a30e4b88be69c88e585ac0502060208bd8fe5bbbae5b1800502030109e585ace5b883e8a1a505020802088cbae4bd8fe5bbba0502020208b180e4b88be69c880502050208b883e8a1a5e8b4b40502090208bbbae5b180e4b88b0502040109e69c88e585ace5b8830502070109e8a1a5e8b4b4e7bb8605020a0208b4b4e7bb86e5889905020b040e0d0e0d0d0d0d0e0e');
INSERT INTO search_index_data VALUES(549755813889,X'000001660a30e4b88ae585abe782b920020f0406e99990e5909728020603079ae697b6e997b420020a0208be9be69a96e4b88d2402070109e588b0e6999ae4b88a20020d02089cbae5bbb6e995bf2002060208b882e59cbae5bbb62002050208bbb6e995bfe890a52002070307bae8aeaee88f9c2002020109e697b6e997b4e588b020020b0208999ae4b88ae585ab20020e02089a96e4b88de783ad24020802089c89e4b88ae9999028020502089da5e794b5efbc9a2402040109e783ade7babfe69da5240202020894b5efbc9ae4be9b2402050208babfe69da5e794b52402030109e88f9ce5b882e59cba200204020890a5e4b89ae697b62002090208a1a5e8b4b4e69c892802030208aeaee88f9ce5b8822002030208b4b4e69c89e4b88a2802040109e982a3e8a1a5e8b4b4280202020895bfe890a5e4b89a200208020897b4e588b0e6999a20020c02089990e59097efbc9f2802070109efbc9ae4be9be69a96240206040e0b0c0d0e0d0d0d0c0e0d0d0d0d0e0d0d0e0d0d0d0d0e0d0d0d');
CREATE TABLE IF NOT EXISTS 'search_index_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
INSERT INTO search_index_idx VALUES(1,X'',2);
INSERT INTO search_index_idx VALUES(2,X'',2);
INSERT INTO search_index_idx VALUES(3,X'',2);
INSERT INTO search_index_idx VALUES(4,X'',2);
CREATE TABLE IF NOT EXISTS 'search_index_content'(id INTEGER PRIMARY KEY, c0);
INSERT INTO search_index_content VALUES(4,'老旧小区加装电梯，补贴怎么申请？');
INSERT INTO search_index_content VALUES(5,'区住建局下月公布补贴细则');
INSERT INTO search_index_content VALUES(6,'公布加装电梯补贴细则');
INSERT INTO search_index_content VALUES(8,'停车位太少了，晚上回家没地方停');
INSERT INTO search_index_content VALUES(12,'建议菜市场延长营业时间到晚上八点');
INSERT INTO search_index_content VALUES(16,'这里有广告');
INSERT INTO search_index_content VALUES(20,'加装电梯补贴在哪里申请？');
INSERT INTO search_index_content VALUES(24,'热线来电：供暖不热');
INSERT INTO search_index_content VALUES(28,'那补贴有上限吗？');
INSERT INTO search_index_content VALUES(32,'建议菜市场延长营业时间到晚上八点');
INSERT INTO search_index_content VALUES(36,'热线来电：供暖不热');
INSERT INTO search_index_content VALUES(40,'那补贴有上限吗？');
CREATE TABLE IF NOT EXISTS 'search_index_docsize'(id INTEGER PRIMARY KEY, sz BLOB);
INSERT INTO search_index_docsize VALUES(4,X'0e');
INSERT INTO search_index_docsize VALUES(5,X'0a');
INSERT INTO search_index_docsize VALUES(6,X'08');
INSERT INTO search_index_docsize VALUES(8,X'0d');
INSERT INTO search_index_docsize VALUES(12,X'0e');
INSERT INTO search_index_docsize VALUES(16,X'03');
INSERT INTO search_index_docsize VALUES(20,X'0a');
INSERT INTO search_index_docsize VALUES(24,X'07');
INSERT INTO search_index_docsize VALUES(28,X'06');
INSERT INTO search_index_docsize VALUES(32,X'0e');
INSERT INTO search_index_docsize VALUES(36,X'07');
INSERT INTO search_index_docsize VALUES(40,X'06');
CREATE TABLE IF NOT EXISTS 'search_index_config'(k PRIMARY KEY, v) WITHOUT ROWID;
INSERT INTO search_index_config VALUES('version',4);
CREATE TABLE search_pending (
    question_id INTEGER PRIMARY KEY,
    fresh       INTEGER NOT NULL
);
CREATE INDEX events_request ON events (session, subject, request_id)
    WHERE request_id IS NOT NULL;
CREATE INDEX sessions_program ON sessions (program_id);
CREATE INDEX questions_session ON questions (session, state);
CREATE INDEX votes_viewer ON votes (session, viewer_id);
CREATE INDEX polls_session ON polls (session);
CREATE INDEX actions_session ON actions (session);
CREATE TRIGGER actions_search_insert AFTER INSERT ON actions BEGIN
    INSERT INTO search_index (rowid, body) SELECT new.id * 4 + 2, new.text
        WHERE new.text IS NOT NULL AND new.text <> '';
END;
CREATE TRIGGER actions_search_update AFTER UPDATE OF text ON actions
    WHEN old.text IS NOT new.text BEGIN
    DELETE FROM search_index WHERE rowid = old.id * 4 + 2;
    INSERT INTO search_index (rowid, body) SELECT new.id * 4 + 2, new.text
        WHERE new.text IS NOT NULL AND new.text <> '';
END;
CREATE TRIGGER actions_search_delete AFTER DELETE ON actions BEGIN
    DELETE FROM search_index WHERE rowid = old.id * 4 + 2;
END;
CREATE TRIGGER questions_search_insert AFTER INSERT ON questions
    WHEN (new.text IS NOT NULL AND new.text <> '')
      OR (new.answer_note IS NOT NULL AND new.answer_note <> '') BEGIN
    INSERT INTO search_pending (question_id, fresh) SELECT new.id, 1
        WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE question_id = new.id);
END;
CREATE TRIGGER questions_search_update AFTER UPDATE OF text, answer_note ON questions
    WHEN old.text IS NOT new.text OR old.answer_note IS NOT new.answer_note BEGIN
    INSERT INTO search_pending (question_id, fresh) SELECT new.id, 0
        WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE question_id = new.id);
END;
CREATE TRIGGER questions_search_delete AFTER DELETE ON questions BEGIN
    INSERT INTO search_pending (question_id, fresh) SELECT old.id, 0
        WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE question_id = old.id);
END;
PRAGMA writable_schema=OFF;
COMMIT;
PRAGMA user_version = 3;
