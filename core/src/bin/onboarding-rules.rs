//! `onboarding-rules`: the rules on the command line, for scripts and for the parity tests of the
//! npm package. JSON in (FILE or stdin), JSON out on stdout (one line, exactly what the package's
//! `*Json` functions return). Exit 0 = done/valid, 1 = invalid, 2 = bad usage or unparsable input.

use onboarding_core::{self as core, Context, Date, Locale, StepId};
use std::io::{Read, Write};
use std::process::ExitCode;

const USAGE: &str =
    "usage: onboarding-rules validate|normalize|preview|steps|schema|schema-output \
[--step S] [--locale es|en] [--today YYYY-MM-DD] [--self-email E] [--jsonl] [FILE]";

struct Args {
    command: String,
    step: Option<StepId>,
    locale: Locale,
    today: Option<Date>,
    self_email: Option<String>,
    /// One JSON document per input line, one result per output line.
    jsonl: bool,
    file: Option<String>,
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("onboarding-rules: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(argv: Vec<String>) -> Result<Args, String> {
    let mut it = argv.into_iter();
    let mut args = Args {
        command: String::new(),
        step: None,
        locale: Locale::Es,
        today: None,
        self_email: None,
        jsonl: false,
        file: None,
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value; {USAGE}"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(USAGE.to_owned()),
            "--step" => {
                let v = value("--step")?;
                let names: Vec<_> = StepId::ALL.iter().map(|s| s.name()).collect();
                args.step = Some(StepId::parse(&v).ok_or_else(|| {
                    format!("unknown step {v:?}: expected one of {}", names.join(", "))
                })?);
            }
            "--locale" => {
                let v = value("--locale")?;
                args.locale = Locale::parse(&v)
                    .ok_or_else(|| format!("unsupported locale {v:?}: expected es or en"))?;
            }
            "--today" => {
                let v = value("--today")?;
                args.today = Some(
                    Date::parse(&v)
                        .ok_or_else(|| format!("invalid --today {v:?}: expected YYYY-MM-DD"))?,
                );
            }
            "--self-email" => args.self_email = Some(value("--self-email")?),
            "--jsonl" => args.jsonl = true,
            s if s.starts_with("--") => return Err(format!("unknown option {s}; {USAGE}")),
            _ if args.command.is_empty() => args.command = arg,
            _ if args.file.is_none() => args.file = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?}; {USAGE}")),
        }
    }
    if args.command.is_empty() {
        return Err(USAGE.to_owned());
    }
    Ok(args)
}

fn read_text(file: Option<&str>) -> Result<String, String> {
    let bytes = match file {
        None | Some("-") => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            bytes
        }
        Some(path) => std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?,
    };
    String::from_utf8(bytes).map_err(|e| format!("input is not valid UTF-8: {e}"))
}

fn parse(text: &str) -> Result<serde_json::Value, String> {
    core::json::parse(text).map_err(|e| format!("invalid JSON: {e}"))
}

fn read_input(file: Option<&str>) -> Result<serde_json::Value, String> {
    parse(&read_text(file)?)
}

/// Today's date in UTC: the CLI supplies the clock the rules never read.
fn today_utc() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Date::from_unix_days(i64::try_from(secs / 86_400).unwrap_or(0))
}

fn run(argv: Vec<String>) -> Result<ExitCode, String> {
    let args = parse_args(argv)?;
    let ctx = Context::new(
        args.locale,
        args.today.unwrap_or_else(today_utc),
        args.self_email.as_deref(),
    );
    if args.jsonl {
        return run_jsonl(&args, &ctx);
    }
    let (json, ok) = match args.command.as_str() {
        "validate" => {
            let input = read_input(args.file.as_deref())?;
            let report = match args.step {
                Some(step) => core::validate_step(step, &input, &ctx),
                None => core::validate_wizard(&input, &ctx),
            };
            (core::to_json(&report), report.valid)
        }
        "normalize" => {
            let input = read_input(args.file.as_deref())?;
            let out = match args.step {
                Some(step) => core::normalize_step(step, input),
                None => core::normalize_wizard(input),
            };
            (core::to_json(&out), true)
        }
        "preview" => {
            if args.step.is_some() {
                return Err("preview takes the whole wizard, not --step".to_owned());
            }
            let input = read_input(args.file.as_deref())?;
            let preview = core::preview(&input, &ctx);
            let valid = preview.report.valid;
            (core::to_json(&preview), valid)
        }
        "steps" => (core::to_json(&core::metadata::steps(args.locale)), true),
        "schema" => (core::to_json(&core::schema::schema()), true),
        "schema-output" => (
            core::to_json(&core::schema::schema_of(core::schema::Side::Output)),
            true,
        ),
        other => return Err(format!("unknown command {other:?}; {USAGE}")),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}").map_err(|e| format!("cannot write stdout: {e}"))?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `validate --jsonl` and `preview --jsonl`: every non-empty input line is one document; every
/// output line is its result, exactly as the single-document command would print it.
fn run_jsonl(args: &Args, ctx: &Context) -> Result<ExitCode, String> {
    let text = read_text(args.file.as_deref())?;
    let mut out = String::with_capacity(text.len());
    let mut all_valid = true;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let input = parse(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        let (json, valid) = match (args.command.as_str(), args.step) {
            ("validate", Some(step)) => {
                let r = core::validate_step(step, &input, ctx);
                (core::to_json(&r), r.valid)
            }
            ("validate", None) => {
                let r = core::validate_wizard(&input, ctx);
                (core::to_json(&r), r.valid)
            }
            ("preview", None) => {
                let p = core::preview(&input, ctx);
                let valid = p.report.valid;
                (core::to_json(&p), valid)
            }
            _ => {
                return Err(format!(
                    "--jsonl works with validate and preview (without --step); {USAGE}"
                ))
            }
        };
        all_valid &= valid;
        out.push_str(&json);
        out.push('\n');
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(|e| format!("cannot write stdout: {e}"))?;
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
