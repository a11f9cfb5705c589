-- Each profile's match-key fingerprint (see src/sync/members.rs), so an audience sync run reads
-- one number per member instead of every key, and the keys only of members that joined or
-- changed.
--
-- NULL means "not known: compute it from the keys". The sync stores it for the profiles that had
-- none (reading their keys under a lock that keeps writers out). This trigger clears it
-- whenever any key changes by whatever path (uploads, imports, hand-written SQL), so a stored
-- fingerprint is never stale; existing databases start with every fingerprint NULL.
alter table profiles add column key_fingerprint integer;

create trigger profiles_key_fingerprint_stale
after update of identity, email, phone, first_name, last_name, gender, date_of_birth, city,
    state, zip, country, madid on profiles
for each row
when new.key_fingerprint is not null and new.key_fingerprint is old.key_fingerprint
    and (new.identity is not old.identity or new.email is not old.email
         or new.phone is not old.phone or new.first_name is not old.first_name
         or new.last_name is not old.last_name or new.gender is not old.gender
         or new.date_of_birth is not old.date_of_birth or new.city is not old.city
         or new.state is not old.state or new.zip is not old.zip
         or new.country is not old.country or new.madid is not old.madid)
begin
    update profiles set key_fingerprint = null where id = new.id;
end;
