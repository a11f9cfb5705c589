-- Daily event counts and saved segments; see migrations/sqlite/0004_segments.sql.
create table event_days (
    name_id    bigint not null,
    day        bigint not null,
    profile_id bigint not null,
    n          bigint not null,
    primary key (name_id, day, profile_id)
);

insert into event_days (name_id, day, profile_id, n)
select name_id, floor(ts / 86400.0)::bigint, profile_id, count(*)
from events
group by 1, 2, 3;

create table profile_count (
    id integer primary key check (id = 1),
    n  bigint not null
);
insert into profile_count (id, n) select 1, count(*) from profiles;

drop index profile_props_by_text;
drop index profile_props_by_number;
create index profile_props_by_text on profile_props(key, kind, t, profile_id);
create index profile_props_by_number on profile_props(key, kind, n, profile_id);

create table saved_segments (
    id               bigserial primary key,
    name             text not null,
    description      text not null default '',
    definition       text not null,
    last_size        bigint,
    last_computed_at text,
    created_at       text not null,
    updated_at       text not null
);
