-- "Connect with Facebook": each OAuth dialog an admin opened, by the SHA-256 of its `state`. The
-- callback accepts a state once, within its life, from the session that opened it (CSRF); a
-- session's end takes its states with it.
create table facebook_login_states (
    state_hash   text primary key,
    session_id   integer not null references sessions (id) on delete cascade,
    -- Sent again, byte-identical, in the code exchange.
    redirect_uri text not null,
    created_at   text not null,
    expires_at   text not null
);
create index facebook_login_states_session_idx on facebook_login_states (session_id);
