//! A plugin's config form, made from its schema: every field with its default and
//! Kong's description, booleans as checkboxes, `one_of` as selects, arrays one value
//! per line, records (`redis`) as fieldsets. It is an island: with JavaScript the
//! server checks it as the user types (300 ms after the last keystroke) with Kong's
//! rules and messages; without, it posts as a plain form and a refused post comes back
//! with what was typed and every broken rule.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::api::*;

/// What the form island starts from (rendered by the server).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PluginFormProps {
    pub scope: ScopeForm,
    pub anchor: String,
    /// Where Cancel goes (the card, form closed).
    pub cancel: String,
    pub spec: PluginFormSpec,
    /// The last post's error that is not about a config field.
    pub error: Option<String>,
}

/// The form's state: the fields as typed, the ones touched, and the broken rules.
#[derive(Clone, Copy)]
struct FormState {
    values: RwSignal<BTreeMap<String, String>>,
    touched: RwSignal<Vec<String>>,
    errors: RwSignal<Vec<(String, String)>>,
    seq: StoredValue<u64>,
    name: StoredValue<String>,
}

impl FormState {
    fn error(self, field: String) -> impl Fn() -> Option<String> + Send + Sync + 'static {
        move || {
            self.errors
                .with(|e| e.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()))
        }
    }

    fn edit(self, field: &str, value: String) {
        self.values.update(|v| {
            v.insert(field.to_string(), value);
        });
        self.touched.update(|t| {
            if !t.iter().any(|f| f == field) {
                t.push(field.to_string());
            }
        });
        let n = self.seq.get_value() + 1;
        self.seq.set_value(n);
        set_timeout(
            move || {
                if self.seq.try_get_value() != Some(n) {
                    return;
                }
                let (Some(values), Some(name)) =
                    (self.values.try_get_untracked(), self.name.try_get_value())
                else {
                    return;
                };
                leptos::task::spawn_local(async move {
                    let fields = values.into_iter().collect();
                    if let Ok(list) = check_plugin_form(name, fields).await {
                        if self.seq.try_get_value() == Some(n) {
                            // Only the fields the user typed in, and the rules across
                            // fields, while the form is new.
                            let touched = self.touched.get_untracked();
                            let shown = list
                                .into_iter()
                                .filter(|(f, _)| {
                                    touched.iter().any(|t| t == f) || !f.starts_with("config.")
                                })
                                .collect();
                            self.errors.try_set(shown);
                        }
                    }
                });
            },
            std::time::Duration::from_millis(300),
        );
    }
}

/// Kong's description, its `code` spans as code.
fn with_code(text: &str) -> impl IntoView {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                view! { <code>{part.to_string()}</code> }.into_any()
            } else {
                part.to_string().into_any()
            }
        })
        .collect_view()
}

/// `key_names` → `Key names`.
fn human(label: &str) -> String {
    let s = label.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => s,
    }
}

/// The config form of a plugin: a plain form, checked when posted (an island for
/// checks as you type cost about 40 KB of the browser bundle, over its budget).
#[component]
pub fn PluginFormIsland(form: PluginFormProps) -> impl IntoView {
    let PluginFormProps {
        scope,
        anchor,
        cancel,
        spec,
        error,
    } = form;
    let editing = !spec.plugin_id.is_empty();
    let values: BTreeMap<String, String> = ConfigField::flat(&spec.fields)
        .into_iter()
        .map(|f| (f.name.clone(), f.value.clone()))
        .collect();
    let names: Vec<String> = values.keys().cloned().collect();
    let state = FormState {
        values: RwSignal::new(values),
        touched: RwSignal::new(Vec::new()),
        errors: RwSignal::new(spec.errors.clone()),
        seq: StoredValue::new(0),
        name: StoredValue::new(spec.name.clone()),
    };
    let prefix = format!("{anchor}-");
    let title = if editing {
        format!("Edit {}", spec.name)
    } else {
        format!("Add {}", spec.name)
    };
    let v = |s: &Option<String>| s.clone().unwrap_or_default();
    // Rules across fields ("at least one of …"), and fields the form does not show.
    let general = move || {
        state.errors.with(|e| {
            e.iter()
                .filter(|(f, _)| !names.contains(f))
                .map(|(f, m)| {
                    if f == "config" || f.is_empty() {
                        m.clone()
                    } else {
                        format!("{f}: {m}")
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    let fields = spec.fields.clone();
    let hint_id = format!("{prefix}form-hint");
    view! {
        <div class="pl-form" id=format!("{anchor}-form")>
            <h3 class="gw-subtitle">{title}</h3>
            <p class="muted small" id=hint_id>"Fields left empty take their defaults. Lists: one value per line."</p>
            <form method="post" action=SavePlugin::url()>
                <input type="hidden" name="group" value=v(&scope.group)/>
                <input type="hidden" name="package" value=v(&scope.package)/>
                <input type="hidden" name="version_id" value=v(&scope.version_id)/>
                <input type="hidden" name="route_id" value=v(&scope.route_id)/>
                <input type="hidden" name="consumer" value=v(&scope.consumer)/>
                <input type="hidden" name="plugins_at" value=anchor.clone()/>
                <input type="hidden" name="name" value=spec.name.clone()/>
                <input type="hidden" name="plugin_id" value=spec.plugin_id.clone()/>
                <div class="pl-meta">
                    <label class="check"><input type="checkbox" name="enabled" checked=spec.enabled/>" Enabled"</label>
                    <div class="field">
                        <label for=format!("{prefix}tags")>"Tags"</label>
                        <input id=format!("{prefix}tags") name="tags" type="text" value=spec.tags.clone() autocomplete="off" placeholder="team-a, edge"/>
                    </div>
                </div>
                <div class="pl-fields">
                    {fields.into_iter().map(|f| field_view(f, state, prefix.clone())).collect_view()}
                </div>
                {move || {
                    let list = general();
                    (!list.is_empty()).then(|| view! {
                        <div class="alert" role="alert">
                            <ul class="pl-errors">{list.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                        </div>
                    })
                }}
                {error.map(|e| view! { <div class="alert" role="alert">{e}</div> })}
                <div class="form-actions">
                    <button type="submit" class="button primary">{if editing { "Save plugin" } else { "Add plugin" }}</button>
                    <a class="button" href=cancel>"Cancel"</a>
                </div>
            </form>
        </div>
    }
}

/// One field (a record: a fieldset of its fields).
fn field_view(f: ConfigField, state: FormState, prefix: String) -> AnyView {
    let id = format!("{prefix}{}", f.name);
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = format!("{hint_id} {err_id}");
    let label = human(&f.label);
    let name = f.name.clone();
    let error = state.error(f.name.clone());
    let refused = state
        .errors
        .with_untracked(|e| e.iter().any(|(n, _)| *n == f.name));
    let invalid = {
        let error = state.error(f.name.clone());
        move || error().is_some().to_string()
    };
    let default_hint = (!f.default.is_empty() && !matches!(f.kind, FieldKind::Boolean | FieldKind::Record(_)))
        .then(|| view! { " "<span class="pl-default">"Default: "<code>{f.default.replace('\n', ", ")}</code>"."</span> });
    let hint = view! {
        <p class="hint" id=hint_id.clone()>{with_code(&f.hint)}{default_hint}</p>
    };
    let message = view! { <p class="field-error" id=err_id.clone() role="status">{error}</p> };
    let req = f
        .required
        .then_some(view! { <span class="req" aria-hidden="true">" *"</span> });
    match f.kind {
        FieldKind::Record(sub) => view! {
            <fieldset class="pl-record">
                <legend>{label}</legend>
                {(!f.hint.is_empty()).then(|| view! { <p class="hint">{with_code(&f.hint)}</p> })}
                {sub.into_iter().map(|f| field_view(f, state, prefix.clone())).collect_view()}
            </fieldset>
        }
        .into_any(),
        FieldKind::Boolean => {
            let checked = f.value == "true";
            let n = name.clone();
            view! {
                <div class="field pl-bool">
                    <label class="check">
                        <input id=id type="checkbox" name=name value="true" checked=checked aria-describedby=described
                            on:change=move |ev| state.edit(&n, event_target_checked(&ev).to_string())/>
                        " "{label}
                    </label>
                    {hint}
                    {message}
                </div>
            }
            .into_any()
        }
        FieldKind::Choice(options) => {
            let n = name.clone();
            let none = !f.required && f.default.is_empty();
            let value = f.value.clone();
            view! {
                <div class="field">
                    <label for=id.clone()>{label}{req}</label>
                    <select id=id name=name aria-describedby=described autofocus=refused
                        on:change=move |ev| state.edit(&n, event_target_value(&ev))>
                        {none.then(|| view! { <option value="" selected=value.is_empty()>"—"</option> })}
                        {options.into_iter().map(|o| view! { <option value=o.clone() selected=o == value>{o.clone()}</option> }).collect_view()}
                    </select>
                    {hint}
                    {message}
                </div>
            }
            .into_any()
        }
        FieldKind::Lines(options) => {
            let n = name.clone();
            let allowed = (!options.is_empty()).then(|| view! { <span class="pl-default">" One or more of: "<code>{options.join(", ")}</code>"."</span> });
            let text = f.value.clone();
            view! {
                <div class="field">
                    <label for=id.clone()>{label}{req}</label>
                    <textarea id=id name=name rows="3" aria-describedby=described aria-invalid=invalid autofocus=refused
                        on:input=move |ev| state.edit(&n, event_target_value(&ev)) prop:value=text>{f.value.clone()}</textarea>
                    {hint}
                    {allowed}
                    {message}
                </div>
            }
            .into_any()
        }
        kind => {
            let n = name.clone();
            let (input_type, mode) = match kind {
                FieldKind::Secret => ("password", "text"),
                FieldKind::Integer => ("text", "numeric"),
                FieldKind::Number => ("text", "decimal"),
                _ => ("text", "text"),
            };
            let placeholder = if matches!(kind, FieldKind::Secret) {
                "unchanged when empty".to_string()
            } else {
                f.default.clone()
            };
            view! {
                <div class="field">
                    <label for=id.clone()>{label}{req}</label>
                    <input id=id name=name type=input_type inputmode=mode value=f.value.clone() placeholder=placeholder
                        autocomplete="off" aria-describedby=described aria-invalid=invalid autofocus=refused
                        on:input=move |ev| state.edit(&n, event_target_value(&ev))/>
                    {hint}
                    {message}
                </div>
            }
            .into_any()
        }
    }
}
