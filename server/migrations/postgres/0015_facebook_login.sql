-- "Connect with Facebook" states; see migrations/sqlite/0014_facebook_login.sql.
create table facebook_login_states (
    state_hash   text primary key,
    session_id   bigint not null references sessions (id) on delete cascade,
    redirect_uri text not null,
    created_at   text not null,
    expires_at   text not null
);
create index facebook_login_states_session_idx on facebook_login_states (session_id);
