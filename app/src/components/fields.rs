use leptos::prelude::*;

use crate::error::AppError;
use crate::model::validate::FieldError;

/// A rule the browser runs as the user types (the server runs it again).
pub type Check = fn(&str) -> Result<(), FieldError>;

/// Label text as the forms take it: `key:value, key:value`.
pub fn check_labels(text: &str) -> Result<(), FieldError> {
    crate::model::validate::parse_labels("labels", text).map(|_| ())
}

pub fn check_description(text: &str) -> Result<(), FieldError> {
    crate::model::validate::description("description", text)
}

/// The error of the last submission of a form, if any.
pub type FormError = Signal<Option<AppError>>;

/// The error held by a server action's last result.
pub fn action_error<S>(action: ServerAction<S>) -> FormError
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()))
}

/// A labelled text input (or textarea) that shows its rule as the user types and
/// the server's answer after a submission.
#[component]
pub fn TextField(
    #[prop(into)] label: String,
    name: &'static str,
    #[prop(optional, into)] value: String,
    #[prop(optional)] required: bool,
    #[prop(optional)] multiline: bool,
    #[prop(optional, into)] hint: String,
    #[prop(optional, into)] placeholder: String,
    #[prop(optional)] check: Option<Check>,
    #[prop(optional, into)] id_prefix: String,
    /// The input's type (`text` by default; `password`, `email`).
    #[prop(optional)]
    input_type: Option<&'static str>,
    /// The `autocomplete` hint (`off` by default).
    #[prop(optional)]
    autocomplete: Option<&'static str>,
    error: FormError,
) -> impl IntoView {
    let input_type = input_type.unwrap_or("text");
    let autocomplete = autocomplete.unwrap_or("off");
    let id = format!("{id_prefix}{name}");
    let hint_id = format!("{id}-hint");
    let err_id = format!("{id}-error");
    let local = RwSignal::new(None::<String>);
    // After a rejected post without JavaScript, show what the user typed.
    let value = if input_type == "password" {
        String::new()
    } else {
        submitted_value(name).unwrap_or(value)
    };
    let shown = Signal::derive(move || {
        local.get().or_else(|| {
            error
                .get()
                .filter(|e| e.field() == Some(name))
                .map(|e| e.message().to_string())
        })
    });
    let on_input = move |ev: leptos::ev::Event| {
        if let Some(check) = check {
            let text = event_target_value(&ev);
            local.set(check(&text).err().map(|e| e.message));
        }
    };
    let has_hint = !hint.is_empty();
    let described = if has_hint {
        format!("{hint_id} {err_id}")
    } else {
        err_id.clone()
    };
    let input = if multiline {
        view! {
            <textarea
                id=id.clone()
                name=name
                rows="4"
                placeholder=placeholder
                aria-describedby=described
                aria-invalid=move || shown.get().is_some().to_string()
                on:input=on_input
            >{value}</textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                id=id.clone()
                name=name
                type=input_type
                value=value
                required=required
                placeholder=placeholder
                autocomplete=autocomplete
                aria-describedby=described
                aria-invalid=move || shown.get().is_some().to_string()
                on:input=on_input
            />
        }
        .into_any()
    };
    view! {
        <div class="field">
            <label for=id>{label}{required.then_some(view! { <span class="req" aria-hidden="true">" *"</span> })}</label>
            {input}
            {has_hint.then(|| view! { <p class="hint" id=hint_id.clone()>{hint.clone()}</p> })}
            <p class="field-error" id=err_id role="status">{move || shown.get()}</p>
        </div>
    }
}

/// A field of the form that was last rejected without JavaScript: the server sends the
/// posted fields back in `__form` (base64 of the form body) beside `__err`.
pub fn submitted_value(name: &str) -> Option<String> {
    use base64::Engine;
    let query = leptos_router::hooks::use_query_map();
    let encoded = query.read_untracked().get("__form")?;
    let body = base64::engine::general_purpose::URL_SAFE
        .decode(encoded.as_bytes())
        .ok()?;
    let body = String::from_utf8(body).ok()?;
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(k) == name).then(|| form_decode(v))
    })
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn form_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_components_decode() {
        assert_eq!(super::form_decode("a+b%3Ac%2C%20d"), "a b:c, d");
        assert_eq!(super::form_decode("caf%C3%A9"), "café");
        assert_eq!(super::form_decode("100%"), "100%");
        assert_eq!(super::form_decode("%zz%4"), "%zz%4");
        assert_eq!(super::form_decode("é%"), "é%");
    }
}

/// The error of a submission that is not about one of the form's fields.
#[component]
pub fn FormAlert(error: FormError, fields: &'static [&'static str]) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| e.field().is_none_or(|f| !fields.contains(&f)))
            .map(|e| view! { <div class="alert" role="alert">{e.message().to_string()}</div> })
    }
}
