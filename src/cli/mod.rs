//! CLI: clap arguments → plain configuration. Only this module knows clap.
use clap::{Args, Parser, Subcommand};

/// Runs declarative YAML scenarios for production smoke runs of data integrations.
#[derive(Debug, Parser)]
#[command(name = "qtscen", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write its evidence (report, results.json, errors file); given
    /// several files, a folder or a glob, run them as a suite (a folder per scenario and
    /// a suite summary: suite.md, suite.json, junit.xml).
    ///
    /// Exit code: 0 passed, 1 a step failed, 2 the scenario or the command line is
    /// invalid (nothing was run), 130 interrupted (the partial evidence is written). A
    /// suite checks every file before it runs any (one invalid file: 2, nothing run) and
    /// exits with the worst code of its scenarios; a scenario whose steps the tags all
    /// leave out is `skipped`, not failed.
    #[command(after_help = RUN_EXAMPLES)]
    Run {
        /// Scenario files, folders (every *.yaml and *.yml file below, recursively, but
        /// the fragments their `include:` names) or globs (`scenarios/**/*.yaml`, quoted
        /// so the shell leaves them to qtscen). One file runs as a single scenario;
        /// anything more runs as a suite.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<String>,
        /// What to run.
        #[command(flatten)]
        args: RunArgs,
        /// How a suite runs.
        #[command(flatten)]
        suite: SuiteArgs,
        /// Where else the evidence goes.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Check scenarios without running anything.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<String>,
        /// A dotenv file (repeatable): the names it sets count as declared env variables.
        #[arg(long = "env-file", value_name = "FILE")]
        env_files: Vec<String>,
    },
    /// Render every step's request and print it without sending anything.
    #[command(after_help = PLAN_EXAMPLES)]
    Plan {
        /// The scenario file.
        scenario: String,
        /// What to render.
        #[command(flatten)]
        args: RunArgs,
    },
    /// Combine the folders of a sharded suite (`run --shard K/N`) into one suite folder.
    ///
    /// Each scenario's folder is copied into --out, and suite.md, suite.json and
    /// junit.xml are written for them all, as one unsharded run would write them. A
    /// share of N that no folder holds is named, and makes the merged suite fail. Exit
    /// code: the merged suite's (0, 1, 130); 2 when a folder holds no suite.json, two
    /// hold the same scenario, or --out holds a suite already.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge {
        /// The suite folders of the shards (each with its suite.json).
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<String>,
        /// Where the combined suite goes (created; must not hold a suite already).
        #[arg(long, value_name = "DIR", required = true)]
        out: String,
    },
    /// Print a JSON Schema: of the scenario format (the default) or of results.json.
    #[command(after_help = SCHEMA_EXAMPLES)]
    Schema {
        /// Which one: `scenario` (what a scenario file may hold) or `results` (what
        /// results.json holds).
        #[arg(value_enum, default_value_t = SchemaKind::Scenario)]
        which: SchemaKind,
    },
    /// Print a completion script for a shell.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Render the reports of a finished run again from its results.json (e.g. after
    /// editing a report template); nothing is sent.
    #[command(after_help = RENDER_EXAMPLES)]
    Render {
        /// The run's output folder (with results.json).
        run_dir: String,
        /// The scenario (default: the one recorded in results.json).
        #[arg(long)]
        scenario: Option<String>,
    },
    /// Run `scenarios/prod_smoke.yaml` on this machine: the built-in QTickets sandbox and
    /// a throwaway ClickHouse on 127.0.0.1, and the example loader built and run with
    /// Docker (sections whose services are missing are left out, with a warning).
    #[command(after_help = DEMO_EXAMPLES)]
    Demo {
        /// Output folder (default runs/<scenario name>/<UTC timestamp>/).
        #[arg(long, value_name = "DIR")]
        out: Option<String>,
        /// Tags to run (default: every section whose services are available here).
        #[arg(long, value_delimiter = ',')]
        tags: Vec<String>,
        /// Make the example loader fail the way the real one does: `exception` (an
        /// unhandled exception, exit 1; `traceback` is the same), `ch-write` (ClickHouse
        /// write failure, exit 1), `ch-retry` (a handled, retried ClickHouse error, then
        /// success), `no-utm` (the bootstrap schema without the utm columns: `No such
        /// column utm_source`), `api-error` (QTickets answers 503 to every /orders
        /// request), `backfill` (an earlier ok run exists, yet the loader backfills 720 h),
        /// `drop-rows` (a silent loader bug: 3 orders never reach staging; exit 0, status
        /// ok; only the reconciliation of 5.3 catches it), `utc-days` (a silent loader bug:
        /// daily facts filed under UTC days; only the per-day reconciliation of 5.4 catches
        /// it).
        #[arg(long, value_name = "MODE")]
        loader_fail: Option<String>,
    },
}

const RUN_EXAMPLES: &str = "Limits (defaults; the scenario's top-level `limits:` raises them):
  body_in_memory 8MiB   a larger response body is streamed to <step id>-<n>.body in the
                        run folder; results.json keeps its start and the file's name
  max_body 1GiB         a body is cut beyond this
  output_tail 1MiB      a program's output goes whole to its log; only its last lines
                        are held (checks, captures, results.json)
  template_fuel 10000000  work one template evaluation may do; then it fails, naming
                        the template's file:line:col
  items_in_memory 10000 items a page walk holds; beyond it every item goes to
                        <step id>.items.jsonl, items: checks and reconcile sides
                        (items: <step id>) stream them, steps.<id>.items is refused

Examples:
  qtscen run scenarios/prod_smoke.yaml --env-file .env --tags api
  qtscen run scenarios/prod_smoke.yaml --env-file .env --step order_detail -v
  qtscen run scenarios/prod_smoke.yaml --env-file .env -q --junit reports/qtscen.xml
  qtscen run scenarios/ --env-file .env -j 4
  qtscen run 'scenarios/**/*.yaml' --env-file .env --fail-fast --junit reports/qtscen.xml
  qtscen run scenarios/ --env-file .env --shard 2/3 --out runs/shard-2";
const MERGE_EXAMPLES: &str = "Examples:
  qtscen merge runs/shard-1 runs/shard-2 runs/shard-3 --out runs/suite
  qtscen merge shards/* --out merged";
const VALIDATE_EXAMPLES: &str =
    "A scenario file larger than limits.max_scenario_size (default 16MiB) or nested deeper
than limits.max_depth (default 64, at most 128) is refused before it is parsed (exit 2,
with file:line:col); its own top-level `limits:` block may raise both.

Examples:
  qtscen validate scenarios/*.yaml
  qtscen validate scenarios/prod_smoke.yaml --env-file .env";
const PLAN_EXAMPLES: &str = "Examples:
  qtscen plan scenarios/prod_smoke.yaml --env-file .env --tags api
  qtscen plan scenarios/prod_smoke.yaml --env-file .env --now 2025-11-05T16:46:54+03:00";
const RENDER_EXAMPLES: &str = "Examples:
  qtscen render runs/prod_smoke/20251105T134654Z
  qtscen render runs/prod_smoke/20251105T134654Z --scenario scenarios/prod_smoke.yaml";
const DEMO_EXAMPLES: &str = "Examples:
  qtscen demo
  qtscen demo --tags api --loader-fail api-error";
const SCHEMA_EXAMPLES: &str = "Examples:
  qtscen schema > schemas/scenario.schema.json
  qtscen schema results > schemas/results.schema.json";
const COMPLETIONS_EXAMPLES: &str = "Examples:
  qtscen completions bash > /etc/bash_completion.d/qtscen
  qtscen completions zsh > \"${fpath[1]}/_qtscen\"
  qtscen completions fish > ~/.config/fish/completions/qtscen.fish";

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "qtscen", &mut out);
    out
}

/// The man pages (roff) by file name: `qtscen.1` and a `qtscen-<command>.1` for each
/// subcommand, checked in under `man/`.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let mut pages = Vec::new();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    pages.push(("qtscen.1".to_string(), out));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("qtscen-{}", sub.get_name());
        let mut out = Vec::new();
        clap_mangen::Man::new(
            sub.clone()
                .display_name(name.clone())
                .bin_name(format!("qtscen {}", sub.get_name()))
                .version(env!("CARGO_PKG_VERSION")),
        )
        .render(&mut out)?;
        pages.push((format!("{name}.1"), out));
    }
    Ok(pages)
}

/// Options of `run` and `plan`.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// The scenario file (the positional argument of `plan`; set by `run` for each
    /// scenario it runs).
    #[arg(skip)]
    pub scenario: String,
    /// A dotenv file (repeatable); its values win over the process environment.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<String>,
    /// Set a var (repeatable): KEY=VALUE.
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Output folder (default runs/<scenario name>/<UTC timestamp>/; a suite's default
    /// is runs/suite/<UTC timestamp>/, with a folder per scenario inside).
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
    /// Run only steps with one of these tags.
    #[arg(long, value_delimiter = ',', value_name = "a,b")]
    pub tags: Vec<String>,
    /// Run only this step (repeatable), with the steps its `needs` require; combines
    /// with --tags/--skip-tags.
    #[arg(long = "step", value_name = "ID")]
    pub steps: Vec<String>,
    /// Skip steps with one of these tags.
    #[arg(long = "skip-tags", value_delimiter = ',', value_name = "c,d")]
    pub skip_tags: Vec<String>,
    /// Fix the clock's start (RFC 3339 with an offset, e.g. 2025-11-05T16:46:54+03:00).
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<jiff::Timestamp>,
    /// Pass a run in which no step ran (by default it fails: "nothing ran").
    #[arg(long)]
    pub allow_empty: bool,
}

/// Options of `run` for a suite (several files, a folder or a glob).
#[derive(Debug, Args, Clone, Default)]
pub struct SuiteArgs {
    /// Scenarios of a suite run at once (default: the number of CPUs, at most 8); the
    /// steps of each scenario still run in order. With -j 1 each scenario prints its
    /// steps as a single run does; with more, a line per finished scenario.
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// Run only share K of N (1-based) of the suite: the scenario paths are sorted, and
    /// the i-th (from 0) goes to share i mod N + 1, so machines given the same paths
    /// agree without talking. Combine the shares' folders with `qtscen merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
    /// Start no new scenario of a suite after one fails (the ones left are `not_run`;
    /// those already running finish).
    #[arg(long)]
    pub fail_fast: bool,
}

/// Options of `run` only: evidence written beside the run folder.
#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// Also write the run as JUnit XML to FILE (any path; secrets masked as in every
    /// file): a testsuite for the scenario (in a suite, one per scenario), a testcase per
    /// step.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<String>,
    /// Print only failed steps and the summary.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print every request's and response's headers (secrets masked).
    #[arg(short, long)]
    pub verbose: bool,
    /// Colour: `auto` (on a terminal, unless NO_COLOR is set; CLICOLOR_FORCE forces it),
    /// `always`, `never`.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

/// `qtscen schema WHICH`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// The scenario format (schemas/scenario.schema.json).
    #[default]
    Scenario,
    /// results.json, the run record (schemas/results.schema.json).
    Results,
}

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal without NO_COLOR (or with CLICOLOR_FORCE).
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl OutputArgs {
    /// The console's settings.
    pub fn console(&self) -> crate::report::ConsoleOptions {
        crate::report::ConsoleOptions {
            quiet: self.quiet,
            verbose: self.verbose,
            color: match self.color {
                ColorWhen::Auto => crate::report::ColorMode::Auto,
                ColorWhen::Always => crate::report::ColorMode::Always,
                ColorWhen::Never => crate::report::ColorMode::Never,
            },
        }
    }
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let parsed = s
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((k, n)) if n >= 1 && (1..=n).contains(&k) => Ok((k, n)),
        _ => Err(format!(
            "`{s}` is not K/N with 1 <= K <= N (e.g. 2/3: the second of three shares)"
        )),
    }
}

fn parse_now(s: &str) -> Result<jiff::Timestamp, String> {
    s.parse::<jiff::Timestamp>().map_err(|e| {
        format!(
            "`{s}` is not an RFC 3339 time with an offset (e.g. 2025-11-05T16:46:54+03:00): {e}"
        )
    })
}
