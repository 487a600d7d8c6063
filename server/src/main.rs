use clap::Parser;
use server::config::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Migrate(db)) => {
            let url = db.url()?;
            server::db::connect_and_migrate(&url).await?;
            println!("database at {} is up to date", server::db::redact(&url));
            Ok(())
        }
        Some(Command::Seed(args)) => {
            let db = server::db::connect_and_migrate(&args.db.url()?).await?;
            let hub = server::hub::Hub::new(db)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let total = server::seed::seed(&hub, args.packages, args.versions).await?;
            println!("the catalog now holds {total} service packages");
            Ok(())
        }
        Some(Command::Admin(cmd)) => admin(cmd).await,
        Some(Command::Gateway(args)) => server::gateway::node::run_standalone(args).await,
    }
}

async fn hub_for(db: &server::config::DbArgs) -> anyhow::Result<server::hub::Hub> {
    let db = server::db::connect_and_migrate(&db.url()?).await?;
    server::hub::Hub::new(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Reads a new password: from the terminal without echo (asked twice), or the first
/// line of stdin when it is not a terminal.
fn read_new_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        if first != second {
            anyhow::bail!("the two passwords are not the same");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

async fn admin(cmd: server::config::AdminCommand) -> anyhow::Result<()> {
    use app::model::{NewApiToken, Role};
    use server::config::AdminCommand;
    let role_of = |s: &str| Role::parse_field("role", s).map_err(|e| anyhow::anyhow!("{e}"));
    match cmd {
        AdminCommand::CreateUser { email, role, db } => {
            let role = role_of(&role)?;
            let hub = hub_for(&db).await?;
            let password = read_new_password()?;
            let user = hub
                .console_create_user(&email, role, &password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("created {} ({})", user.email, user.role.label());
            Ok(())
        }
        AdminCommand::CreateToken {
            email,
            name,
            role,
            expires_in_days,
            db,
        } => {
            let role = role.as_deref().map(role_of).transpose()?;
            let hub = hub_for(&db).await?;
            let created = hub
                .console_create_token(
                    &email,
                    NewApiToken {
                        name,
                        role,
                        expires_in_days,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "token \"{}\" for {} ({}); it is shown only this once:",
                created.token.name,
                created.token.user_email,
                created.token.role.label()
            );
            println!("{}", created.secret);
            Ok(())
        }
    }
}

async fn serve(args: server::config::ServeArgs) -> anyhow::Result<()> {
    let url = args.db.url()?;
    let db = server::db::connect_and_migrate(&url).await?;
    let hub = server::hub::Hub::new(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_session_policy(server::hub::SessionPolicy {
            idle: chrono::Duration::minutes(i64::from(args.session_idle_minutes.max(1))),
            absolute: chrono::Duration::hours(i64::from(args.session_max_hours.max(1))),
        });
    if !app::ports::Users::has_users(&hub)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        let code = hub.setup_code();
        let file = match code.write_file(&args.db.data_dir) {
            Ok(path) => format!(" (also in {})", path.display()),
            Err(e) => {
                tracing::warn!(
                    "could not write the setup code to {}: {e}",
                    args.db.data_dir.display()
                );
                String::new()
            }
        };
        tracing::warn!(
            "no user exists yet: open http://{}/setup and create the first admin with the setup code below, or run `portico admin create-user --email … --role admin`",
            args.listen
        );
        tracing::warn!("setup code: {}{file}", code.display());
    } else {
        server::auth::setup_code::remove_stale_file(&args.db.data_dir);
    }
    if !args.trusted_proxies.is_empty() && !args.trust_forwarded {
        tracing::warn!("--trusted-proxies is ignored without --trust-forwarded");
    }
    {
        // Sweep expired sessions now and then.
        let hub = hub.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                every.tick().await;
                if let Err(e) = hub.purge_expired_sessions(chrono::Utc::now()).await {
                    tracing::warn!("could not purge expired sessions: {e}");
                }
            }
        });
    }
    for entry in &args.proxy_listen {
        let Some((group, addr)) = entry.split_once('=') else {
            anyhow::bail!("--proxy-listen takes GROUP=IP:PORT, not \"{entry}\"");
        };
        match hub
            .configure_proxy_listen(group.trim(), addr.trim())
            .await
            .map_err(|e| anyhow::anyhow!("--proxy-listen {entry}: {e}"))?
        {
            Some(()) => {}
            None => tracing::warn!("--proxy-listen: there is no runtime group \"{group}\""),
        }
    }
    server::control::spawn_change_poller(hub.clone());
    // Analytics: the embedded data planes record through the same recorder and batches
    // as standalone nodes, counted by the hub; old rows are purged per resolution.
    let retention = hub.start_analytics_retention(args.retention());
    let (recorder, recording) = server::control::start_embedded_analytics(
        hub.clone(),
        std::time::Duration::from_millis(args.analytics_flush_ms),
    );
    let planes = server::control::EmbeddedPlanes::start_with_limits(
        hub.clone(),
        recorder.clone(),
        args.limits.limits(),
    );
    let options = server::leptos_options(args.listen, &args.site_root);
    let app = server::web::app_with(
        hub,
        options,
        server::auth::AuthSettings {
            trust_forwarded: args.trust_forwarded,
            trusted_proxies: args.trusted_proxies.clone(),
        },
        server::web::StatusSources {
            planes: Some(planes.clone()),
            recorder: Some(recorder.clone()),
            metrics_public: args.metrics_public,
        },
    );
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(
        "Portico listening on http://{} (database {})",
        listener.local_addr()?,
        server::db::redact(&url)
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(server::gateway::node::shutdown_signal())
    .await?;
    // The UI has stopped; let the data planes finish their in-flight requests, then
    // count what they recorded.
    planes.shutdown().await;
    recording.shutdown().await;
    retention.abort();
    tracing::info!("Portico stopped");
    Ok(())
}
