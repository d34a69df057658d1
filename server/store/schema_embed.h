/* schema_embed.h — the migrations embedded into the binary at build time (generated
 * schema_sql.c). Each migration runs once, in version order, inside one transaction. */
#pragma once

typedef struct store_migration {
    int version;      /* from the file name: 001_init.sql -> 1 */
    const char *name; /* file name */
    const char *sql;  /* whole file */
} store_migration;

extern const store_migration store_migrations[];
extern const int store_migration_count;
