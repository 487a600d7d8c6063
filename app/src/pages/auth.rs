//! Sign-in and the first-run screen. Both are plain form posts, so the page that
//! follows loads in full (with or without JavaScript) and knows who is signed in.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{Login, Setup};
use crate::components::*;
use crate::model::auth::PASSWORD_MIN;

/// `/login`
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query.read_untracked().get("next").unwrap_or_default();
    let expired = query.read_untracked().get("expired").is_some();
    let login = ServerAction::<Login>::new();
    let error = action_error(login);
    view! {
        <Title text="Sign in"/>
        <section class="card auth-card" aria-labelledby="login-title">
            <h1 id="login-title">"Sign in to Portico"</h1>
            {expired.then(|| view! {
                <div class="alert" role="alert">"Your session has ended (it expired or was revoked). Sign in again."</div>
            })}
            <form method="post" action=Login::url()>
                <input type="hidden" name="next" value=next/>
                <TextField label="Email" name="email" input_type="email" autocomplete="username" required=true error=error/>
                <TextField label="Password" name="password" input_type="password" autocomplete="current-password" required=true error=error/>
                <FormAlert error=error fields=&["email", "password"]/>
                <div class="form-actions">
                    <button type="submit" class="button primary">"Sign in"</button>
                </div>
            </form>
            <p class="muted small">"No account? Ask an admin of this Portico to create one."</p>
        </section>
    }
}

/// `/setup`: creates the first admin; open only while no user exists, and only to
/// whoever has the setup code from the server's log.
#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    let error = action_error(setup);
    view! {
        <Title text="Set up Portico"/>
        <section class="card auth-card" aria-labelledby="setup-title">
            <h1 id="setup-title">"Welcome to Portico"</h1>
            <p class="lead">"Create the first admin account. This screen closes as soon as one exists."</p>
            <form method="post" action=Setup::url()>
                <TextField label="Setup code" name="setup_code" autocomplete="off" required=true error=error
                    hint="Portico prints it to its log at start-up (\"setup code: …\"), and writes it to the file setup-code in its data directory."/>
                <TextField label="Email" name="email" input_type="email" autocomplete="username" required=true check=Check::Email error=error/>
                <TextField label="Password" name="password" input_type="password" autocomplete="new-password" required=true check=Check::Password error=error
                    hint=format!("At least {PASSWORD_MIN} characters.")/>
                <TextField label="Repeat the password" name="password_confirm" input_type="password" autocomplete="new-password" required=true error=error/>
                <FormAlert error=error fields=&["setup_code", "email", "password", "password_confirm"]/>
                <div class="form-actions">
                    <button type="submit" class="button primary">"Create admin and sign in"</button>
                </div>
            </form>
        </section>
    }
}
