-- Last write wins by the message's time (docs/customer-data.md, "Order"): a backfill
-- arrives in any order, so every profile property and every match key remembers the time
-- (epoch seconds) of the message that set it, and an older message never overwrites it.
-- Null: set before this migration, older than any message.
alter table profile_props add column at integer;
alter table profiles add column email_at integer;
alter table profiles add column phone_at integer;
alter table profiles add column first_name_at integer;
alter table profiles add column last_name_at integer;
alter table profiles add column gender_at integer;
alter table profiles add column date_of_birth_at integer;
alter table profiles add column city_at integer;
alter table profiles add column state_at integer;
alter table profiles add column zip_at integer;
alter table profiles add column country_at integer;
alter table profiles add column madid_at integer;

-- Segment's anonymousId → userId links (identify with both, or alias): calls made with only
-- the anonymousId are stored on the profile `anonymous:<id>` until the link merges them into
-- the user's profile (server/src/customer/store/identity.rs).
create table identity_links (
    anonymous_id text primary key,
    identity     text not null,
    linked_at    integer not null
);
