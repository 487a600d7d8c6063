use leptos::prelude::*;

use crate::error::AppError;
use crate::model::validate::FieldError;

/// A rule the browser runs as the user types (the server runs it again). An enum,
/// not a function, because the field's input is an island: its props travel in the
/// page as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Check {
    /// `key:value, key:value`.
    Labels,
    Description,
    /// A display name (service package, runtime group), for the field `field`.
    DisplayName(DisplayNameField),
    VersionName,
    Email,
    Password,
    UpstreamUrl,
    Retries,
    ConnectTimeout,
    ReadTimeout,
    WriteTimeout,
    ProxyListen,
    TokenName,
    ReportName,
    ReportDescription,
}

/// Which form's name field a [`Check::DisplayName`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DisplayNameField {
    /// A service package's `display_name`.
    Package,
    /// A runtime group's `name`.
    Group,
}

impl Check {
    /// The rule's verdict on `text`.
    pub fn run(self, text: &str) -> Result<(), FieldError> {
        use crate::model::analytics::{check_report_description, check_report_name};
        use crate::model::{auth, gateway, validate};
        match self {
            Check::Labels => validate::parse_labels("labels", text).map(|_| ()),
            Check::Description => validate::description("description", text),
            Check::DisplayName(DisplayNameField::Package) => {
                validate::display_name("display_name", text)
            }
            Check::DisplayName(DisplayNameField::Group) => validate::display_name("name", text),
            Check::VersionName => validate::version_name("name", text),
            Check::Email => auth::normalize_email("email", text)
                .map(|_| ())
                .map_err(|e| FieldError::new("email", e.message())),
            Check::Password => auth::check_password("password", text)
                .map_err(|e| FieldError::new("password", e.message())),
            Check::UpstreamUrl => crate::model::ImplementationInput {
                url: Some(text.to_string()),
                ..Default::default()
            }
            .validate()
            .map(|_| ()),
            Check::Retries => check_number("retries", text),
            Check::ConnectTimeout => check_number("connect_timeout", text),
            Check::ReadTimeout => check_number("read_timeout", text),
            Check::WriteTimeout => check_number("write_timeout", text),
            Check::ProxyListen => gateway::proxy_listen("proxy_listen", text).map(|_| ()),
            Check::TokenName => gateway::token_name("name", text),
            Check::ReportName => check_report_name(text),
            Check::ReportDescription => check_report_description(text),
        }
    }
}

/// One number of the implementation form, checked alone.
fn check_number(field: &'static str, s: &str) -> Result<(), FieldError> {
    let get = |f: &str| if f == field { s } else { "" };
    crate::api::implementation_input(
        "http://upstream",
        get("retries"),
        get("connect_timeout"),
        get("read_timeout"),
        get("write_timeout"),
        true,
    )
    .map_err(|e| FieldError::new(field, e.message()))?
    .validate()
    .map(|_| ())
}

/// The error of the last submission of a form, if any.
pub type FormError = Signal<Option<AppError>>;

/// The message of `error` when it is about `field`.
pub fn field_message(error: Option<AppError>, field: &str) -> Option<String> {
    error
        .filter(|e| e.field() == Some(field))
        .map(|e| e.message().to_string())
}

/// The error held by a server action's last result.
pub fn action_error<S>(action: ServerAction<S>) -> FormError
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()))
}

/// A labelled text input (or textarea) that shows its rule as the user types and
/// the server's answer after a submission. The label and hint are plain HTML; the
/// input and its message are an island when the field has a rule.
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
    let id = format!("{id_prefix}{name}");
    let hint_id = format!("{id}-hint");
    // After a rejected post without JavaScript, show what the user typed.
    let value = if input_type == "password" {
        String::new()
    } else {
        submitted_value(name).unwrap_or(value)
    };
    let has_hint = !hint.is_empty();
    let input = FieldInput {
        id: id.clone(),
        name: name.to_string(),
        value,
        multiline,
        input_type: input_type.to_string(),
        required,
        placeholder,
        autocomplete: autocomplete.unwrap_or("off").to_string(),
        hint_id: has_hint.then(|| hint_id.clone()),
        server_message: field_message(error.get_untracked(), name),
    };
    let control = match check {
        Some(check) => view! { <CheckedInput input check/> }.into_any(),
        None => input.view(None).into_any(),
    };
    view! {
        <div class="field">
            <label for=id>{label}{required.then_some(view! { <span class="req" aria-hidden="true">" *"</span> })}</label>
            {control}
            {has_hint.then(|| view! { <p class="hint" id=hint_id.clone()>{hint.clone()}</p> })}
        </div>
    }
}

/// What a [`TextField`]'s input is made of.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldInput {
    id: String,
    name: String,
    value: String,
    multiline: bool,
    input_type: String,
    required: bool,
    placeholder: String,
    autocomplete: String,
    hint_id: Option<String>,
    /// The server's message about this field after a rejected submission.
    server_message: Option<String>,
}

impl FieldInput {
    /// The input and its message line; `check` runs on every keystroke.
    fn view(self, check: Option<Check>) -> impl IntoView {
        let err_id = format!("{}-error", self.id);
        let described = match &self.hint_id {
            Some(h) => format!("{h} {err_id}"),
            None => err_id.clone(),
        };
        // The field the last post was refused for takes the focus when the page opens
        // (and comes into view), with or without JavaScript.
        let refused = self.server_message.is_some();
        let shown = RwSignal::new(self.server_message);
        let on_input = move |ev: leptos::ev::Event| {
            if let Some(check) = check {
                shown.set(check.run(&event_target_value(&ev)).err().map(|e| e.message));
            }
        };
        let invalid = move || shown.get().is_some().to_string();
        let input = if self.multiline {
            view! {
                <textarea id=self.id name=self.name rows="4" placeholder=self.placeholder
                    autofocus=refused aria-describedby=described aria-invalid=invalid on:input=on_input
                >{self.value}</textarea>
            }
            .into_any()
        } else {
            view! {
                <input id=self.id name=self.name type=self.input_type value=self.value
                    required=self.required placeholder=self.placeholder
                    autocomplete=self.autocomplete autofocus=refused aria-describedby=described
                    aria-invalid=invalid on:input=on_input/>
            }
            .into_any()
        };
        view! {
            {input}
            <p class="field-error" id=err_id role="status">{move || shown.get()}</p>
        }
    }
}

/// A field's input with its rule run as the user types (hydrated in the browser).
#[island]
fn CheckedInput(input: FieldInput, check: Check) -> impl IntoView {
    input.view(Some(check))
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
    crate::model::urlencoded::form_value(&body, name)
}

#[cfg(test)]
mod tests {
    use super::{Check, DisplayNameField};

    /// Each rule refuses a bad value on the field its form posts, and takes a good one.
    #[test]
    fn checks_name_their_fields() {
        let cases = [
            (Check::Labels, "kong-x:y", "labels", "team:payments"),
            (
                Check::Description,
                &"d".repeat(10_001),
                "description",
                "Orders",
            ),
            (
                Check::DisplayName(DisplayNameField::Package),
                "bad/name",
                "display_name",
                "Orders",
            ),
            (
                Check::DisplayName(DisplayNameField::Group),
                "bad/name",
                "name",
                "default",
            ),
            (Check::VersionName, "", "name", "v1"),
            (Check::Email, "nobody", "email", "a@example.com"),
            (
                Check::Password,
                "short",
                "password",
                "a long enough passphrase",
            ),
            (
                Check::UpstreamUrl,
                "ftp://nope",
                "url",
                "http://127.0.0.1:8080",
            ),
            (Check::Retries, "soon", "retries", "5"),
            (Check::ConnectTimeout, "soon", "connect_timeout", "60000"),
            (Check::ReadTimeout, "-1", "read_timeout", "60000"),
            (Check::WriteTimeout, "x", "write_timeout", "60000"),
            (
                Check::ProxyListen,
                "nowhere",
                "proxy_listen",
                "127.0.0.1:8000",
            ),
            (Check::TokenName, "", "name", "ci"),
            (Check::ReportName, " ", "name", "Errors by route"),
            (
                Check::ReportDescription,
                &"d".repeat(256),
                "description",
                "",
            ),
        ];
        for (check, bad, field, good) in cases {
            let e = check
                .run(bad)
                .expect_err(&format!("{check:?} refuses {bad:?}"));
            assert_eq!(e.field, field, "{check:?}");
            assert_eq!(check.run(good), Ok(()), "{check:?} takes {good:?}");
        }
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
