use leptos::prelude::*;

use crate::contexts::toast_context::use_toasts;

/// Where toasts appear: a live region that is always in the page (so screen readers announce
/// what is added to it), at the bottom of the window. Each toast can be dismissed; none leaves
/// while the pointer or the focus is in the region.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="region" aria-label="Notifications" aria-live="polite"
            on:pointerenter=move |_| toasts.held.set(true) on:pointerleave=move |_| toasts.held.set(false)
            on:focusin=move |_| toasts.held.set(true) on:focusout=move |_| toasts.held.set(false)>
            <For each=move || toasts.list.get() key=|t| t.id let:toast>
                <div class="toast">
                    <p class="toast__text">{toast.text}</p>
                    <button type="button" class="toast__close" aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)>"×"</button>
                </div>
            </For>
        </div>
    }
}
