-- Instance-wide settings as key/value pairs (e.g. which Facebook mode is selected).
create table settings (
    key        text primary key not null,
    value      text not null,
    updated_at timestamptz not null default now()
);
