use leptos::prelude::*;
use leptos_meta::Title;
use shared::account::{Role, User, UserUpdate};

use crate::{
    api::{
        self,
        load::{Act, Load},
    },
    components::{admin::NewUserForm, layout::LocalTime},
};

/// `/users` (admins): everyone who can sign in, their role, and whether they are disabled.
#[component]
pub fn UsersPage() -> impl IntoView {
    let change = Act::new(|(id, update): (i64, UserUpdate)| api::update_user(id, update));
    let created = RwSignal::new(0_u32);
    let users = Load::new(move || {
        change.version().get();
        created.get();
        api::list_users()
    });
    let change_error = move || match change.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    };
    view! {
        <Title text="Users" />
        <div class="page-header"><h1>"Users"</h1></div>
        <p class="notice notice--error" role="alert" hidden=move || change_error().is_none()>{change_error}</p>
        {move || match users.get() {
            None => view! { <p class="loading">"Loading users…"</p> }.into_any(),
            Some(Err(err)) => view! { <p class="notice notice--error" role="alert">{err.to_string()}</p> }.into_any(),
            Some(Ok(list)) => view! {
                <table class="table">
                    <thead><tr><th scope="col">"E-mail"</th><th scope="col">"Role"</th><th scope="col">"Status"</th><th scope="col">"Last sign-in"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|u| user_row(u, change)).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
        <NewUserForm on_created=Callback::new(move |()| created.update(|n| *n += 1)) />
    }
}

/// One user, with their role as a menu and a button to disable or enable them.
fn user_row(
    user: User,
    change: Act<(i64, UserUpdate), Result<User, api::ClientError>>,
) -> impl IntoView {
    let User {
        id,
        email,
        role,
        disabled,
        last_login_at,
        ..
    } = user;
    let label = format!("Role of {email}");
    let toggle_text = if disabled { "Enable" } else { "Disable" };
    let toggle_label = format!("{toggle_text} {email}");
    let set = move |update: UserUpdate| {
        change.dispatch((id, update));
    };
    view! {
        <tr>
            <th scope="row">{email}</th>
            <td>
                <select aria-label=label on:change=move |ev| {
                    if let Some(role) = Role::parse(&event_target_value(&ev)) {
                        set(UserUpdate { role: Some(role), ..Default::default() });
                    }
                }>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected={r == role}>{r.label()}</option>
                    }).collect_view()}
                </select>
            </td>
            <td>{if disabled { "Disabled" } else { "Active" }}</td>
            <td>{last_login_at.map_or_else(|| "never".into_any(), |at| view! { <LocalTime at=at /> }.into_any())}</td>
            <td>
                <button type="button" class="button button--small" aria-label=toggle_label
                    on:click=move |_| set(UserUpdate { disabled: Some(!disabled), ..Default::default() })>
                    {toggle_text}
                </button>
            </td>
        </tr>
    }
}
