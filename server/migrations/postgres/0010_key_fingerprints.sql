-- Each profile's match-key fingerprint; see migrations/sqlite/0010_key_fingerprints.sql.
alter table profiles add column key_fingerprint bigint;

create function profiles_key_fingerprint_stale() returns trigger language plpgsql as $$
begin
    if new.key_fingerprint is not distinct from old.key_fingerprint
       and (new.identity, new.email, new.phone, new.first_name, new.last_name, new.gender,
            new.date_of_birth, new.city, new.state, new.zip, new.country, new.madid)
           is distinct from
           (old.identity, old.email, old.phone, old.first_name, old.last_name, old.gender,
            old.date_of_birth, old.city, old.state, old.zip, old.country, old.madid) then
        new.key_fingerprint := null;
    end if;
    return new;
end
$$;

create trigger profiles_key_fingerprint_stale
before update of identity, email, phone, first_name, last_name, gender, date_of_birth, city,
    state, zip, country, madid on profiles
for each row execute function profiles_key_fingerprint_stale();
