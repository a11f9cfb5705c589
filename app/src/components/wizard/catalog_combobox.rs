use leptos::{ev::KeyboardEvent, prelude::*};

/// Most suggestions listed at once.
const MAX_SHOWN: usize = 12;

/// A text field with suggestions from the catalog, as an ARIA 1.2 editable combobox with list
/// autocomplete: typing filters the list (any part of the name, case-insensitively); Down and Up
/// move through it (Alt+Down opens it without moving), Enter takes the highlighted name, Escape
/// closes the list, and a click takes a name too. Any other text is still accepted.
#[component]
pub fn CatalogCombobox(
    /// The input's id, which its `<label for>` names.
    #[prop(into)]
    id: String,
    /// The id of the field's error text.
    #[prop(into)]
    described_by: String,
    /// Every suggestion, most useful first.
    options: Signal<Vec<String>>,
    #[prop(into)] value: Signal<String>,
    /// Called with the new text, typed or chosen.
    on_input: Callback<String>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let active = RwSignal::new(None::<usize>);
    let base = StoredValue::new(id.clone());
    let option_id = move |i: usize| format!("{}-option-{i}", base.get_value());
    let list_id = format!("{id}-listbox");
    let shown = Memo::new(move |_| {
        let typed = value.get().trim().to_lowercase();
        options.with(|all| {
            all.iter()
                .filter(|o| o.to_lowercase().contains(&typed))
                .take(MAX_SHOWN)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let expanded = move || open.get() && !shown.with(Vec::is_empty);
    let close = move || {
        open.set(false);
        active.set(None);
    };
    let choose = move |name: String| {
        on_input.run(name);
        close();
    };
    let on_keydown = move |ev: KeyboardEvent| {
        let n = shown.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                if !open.get_untracked() {
                    open.set(true);
                    if ev.alt_key() {
                        return;
                    }
                }
                if n > 0 {
                    active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % n)));
                }
            }
            "ArrowUp" => {
                ev.prevent_default();
                open.set(true);
                if n > 0 {
                    active.update(|a| *a = Some(a.map_or(n - 1, |i| (i + n - 1) % n)));
                }
            }
            "Enter" => {
                let picked = active
                    .get_untracked()
                    .filter(|_| open.get_untracked())
                    .and_then(|i| shown.with_untracked(|s| s.get(i).cloned()));
                if let Some(name) = picked {
                    // Takes the name instead of submitting a form around the field.
                    ev.prevent_default();
                    choose(name);
                }
            }
            "Escape" if open.get_untracked() => {
                ev.prevent_default();
                close();
            }
            "Tab" => close(),
            _ => {}
        }
    };
    view! {
        <div class="combobox">
            <input
                id=id
                type="text"
                role="combobox"
                autocomplete="off"
                aria-autocomplete="list"
                aria-controls=list_id.clone()
                aria-expanded=move || expanded().to_string()
                aria-activedescendant=move || active.get().filter(|_| expanded()).map(option_id)
                aria-describedby=described_by
                prop:value=move || value.get()
                on:input=move |ev| {
                    on_input.run(event_target_value(&ev));
                    open.set(true);
                    active.set(None);
                }
                on:keydown=on_keydown
                on:click=move |_| open.update(|o| *o = !*o)
                on:blur=move |_| close()
            />
            <ul id=list_id role="listbox" aria-label="Suggestions" class="combobox__list" hidden=move || !expanded()>
                <For each=move || shown.get().into_iter().enumerate() key=|(i, name)| (*i, name.clone()) let:item>
                    {
                        let (i, name) = item;
                        let chosen = name.clone();
                        view! {
                            <li
                                id=option_id(i)
                                role="option"
                                class="combobox__option"
                                aria-selected=move || (active.get() == Some(i)).to_string()
                                // Before the input's blur, which would close the list first.
                                on:mousedown=move |ev| {
                                    ev.prevent_default();
                                    choose(chosen.clone());
                                }
                            >
                                {name}
                            </li>
                        }
                    }
                </For>
            </ul>
        </div>
    }
}
