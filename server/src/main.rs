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
    }
}

async fn serve(args: server::config::ServeArgs) -> anyhow::Result<()> {
    let url = args.db.url()?;
    let db = server::db::connect_and_migrate(&url).await?;
    let hub = server::hub::Hub::new(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let options = server::leptos_options(args.listen, &args.site_root);
    let app = server::web::app(hub, options);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(
        "Portico listening on http://{} (database {})",
        listener.local_addr()?,
        server::db::redact(&url)
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("Portico stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
