//! The `shop` command line.

use std::{io::IsTerminal, process::ExitCode};

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::{
    auth::{Auth, JwtSecret},
    config::{Config, DatabaseArgs, LogFormat},
    db,
    domain::{Email, Password, Username},
    error::AppError,
    graphql,
    server::{Server, shutdown_signal},
    service::{
        accounts::{self, NewUser},
        demo::{self, Seeded, SeededShipping},
    },
};

/// Each subcommand takes only the settings it uses, so that its `--help` fits a screen:
/// the server's for `serve`, the database's for the database commands, none for
/// `print-schema`.
#[derive(Parser)]
#[command(name = "shop", version, about = "A GraphQL e-commerce backend")]
struct Cli {
    /// `serve` when none is given.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve the API (the default).
    Serve(Box<Serve>),
    /// Fill an empty catalog with deterministic demo categories and products.
    SeedDemo {
        #[command(flatten)]
        database: DatabaseArgs,
        /// How many products to create.
        #[arg(long, default_value_t = 1_000)]
        products: u32,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Create an admin, or make the existing user with this username an admin.
    CreateAdmin {
        #[command(flatten)]
        database: DatabaseArgs,
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Prefer the environment variable: a flag shows up in the process list.
        #[arg(long, env = "SHOP_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Print the GraphQL schema (SDL) to stdout.
    PrintSchema,
}

#[derive(Parser)]
struct Serve {
    #[command(flatten)]
    config: Config,
    /// Fill an empty shop with the demo catalog and an admin account first.
    #[arg(long)]
    demo: bool,
    /// How many products the demo catalog has.
    #[arg(long, default_value_t = 1_000, requires = "demo")]
    demo_products: u32,
}

impl Command {
    /// The log filter the command was given; `print-schema` logs nothing worth filtering.
    fn log_filter(&self) -> &str {
        match self {
            Self::Serve(serve) => &serve.config.log,
            Self::SeedDemo { database, .. }
            | Self::Migrate { database }
            | Self::CreateAdmin { database, .. } => &database.log,
            Self::PrintSchema => "warn",
        }
    }

    /// How the command writes its log: only `serve` has a choice.
    fn log_format(&self) -> LogFormat {
        match self {
            Self::Serve(serve) => serve.config.log_format,
            _ => LogFormat::Text,
        }
    }
}

pub fn run() -> ExitCode {
    // `shop` alone is `shop serve`, configured from the environment.
    let command = Cli::parse()
        .command
        .unwrap_or_else(|| Command::Serve(Box::new(Serve::parse_from(["shop serve"]))));
    if let Err(err) = init_tracing(command.log_filter(), command.log_format()) {
        eprintln!("error: {}", describe(&err));
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", describe(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each said once: a library error often repeats
/// its source's message in its own (sea-orm's connection errors do), and `{:#}` would
/// print that text twice.
fn describe(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

async fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(serve) => {
            let Serve {
                config,
                demo,
                demo_products,
            } = *serve;
            let server = Server::build(&config).await?;
            if demo {
                seed_demo(server.db(), demo_products).await?;
            }
            tracing::info!(
                "shop listening on http://{} (GraphiQL at /)",
                server.local_addr()?
            );
            server.run(shutdown_signal()).await?;
        }
        Command::Migrate { database } => {
            let db = db::connect(&database.database_url, 1).await?;
            db::migrate(&db).await?;
            println!("database is up to date");
        }
        Command::CreateAdmin {
            database,
            username,
            email,
            password,
        } => {
            let db = db::connect(&database.database_url, 2).await?;
            db::migrate(&db).await?;
            // No token is issued here, so any key will do.
            let auth = Auth::new(&JwtSecret::random())?;
            let (user, verb) = create_admin(&db, &auth, &username, &email, &password)
                .await
                .map_err(|err| anyhow::anyhow!("{err}"))?;
            println!("{verb} admin {}", user.username);
        }
        Command::SeedDemo { database, products } => {
            let db = db::connect(&database.database_url, 2).await?;
            db::migrate(&db).await?;
            seed_demo(&db, products).await?;
        }
        Command::PrintSchema => print!("{}", graphql::sdl()),
    }
    Ok(())
}

/// Makes the user `username` an admin, or creates it as one; answers it and which it was.
/// The email and password are parsed only for a new user: a promotion leaves them be.
async fn create_admin(
    db: &sea_orm::DatabaseConnection,
    auth: &Auth,
    username: &str,
    email: &str,
    password: &str,
) -> Result<(entity::user::Model, &'static str), AppError> {
    let username = Username::parse(username, "username")?;
    if let Some(user) = accounts::promote_to_admin(db, &username).await? {
        return Ok((user, "promoted"));
    }
    let new_admin = NewUser {
        email: Email::parse(email, "email")?,
        password: Password::parse(password, &username, "password")?,
        username,
        is_admin: true,
    };
    Ok((accounts::create_user(db, auth, new_admin).await?, "created"))
}

/// Seeds the demo catalog and, when the shop has no admin, creates one and prints its
/// password: the only time it is ever shown.
async fn seed_demo(db: &sea_orm::DatabaseConnection, products: u32) -> anyhow::Result<()> {
    let describe = |err: crate::error::AppError| anyhow::anyhow!("{err}");
    match demo::seed_catalog(db, products).await.map_err(describe)? {
        Seeded::Catalog {
            categories,
            products,
        } => tracing::info!("demo catalog: {categories} categories, {products} products"),
        Seeded::AlreadyPresent => tracing::info!("the catalog has products; demo data not added"),
    }
    match demo::seed_shipping_and_tax(db).await.map_err(describe)? {
        SeededShipping::Added { methods, tax_rates } => {
            tracing::info!("demo shipping: {methods} shipping methods, {tax_rates} tax rates")
        }
        SeededShipping::AlreadyPresent => {
            tracing::info!("shipping or tax is set up; demo shipping and tax not added")
        }
    }
    if demo::seed_discount_code(db).await.map_err(describe)? {
        tracing::info!(
            "demo discount code: {} (10% off from 20.00, once per customer)",
            demo::DEMO_DISCOUNT_CODE
        );
    }
    let auth = Auth::new(&JwtSecret::random()).map_err(describe)?;
    if let Some((username, password)) =
        demo::ensure_demo_admin(db, &auth).await.map_err(describe)?
    {
        tracing::warn!("demo admin created: username {username:?}, password {password:?}");
    }
    Ok(())
}

/// Logs go to stderr, so `print-schema` output stays clean. Colours only on a terminal:
/// escape codes in a file or a log shipper's pipe are noise that breaks searches.
fn init_tracing(filter: &str, format: LogFormat) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|err| anyhow::anyhow!("SHOP_LOG is not a valid filter: {err}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        // The event's fields at the top level, beside `span` (the request's method, path,
        // request id and operation); the list of enclosing spans would only repeat it.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    Ok(())
}
