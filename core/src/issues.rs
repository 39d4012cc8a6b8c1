//! Issues as the rules find them (`Issues::push`), then sorted by where they are in the wizard
//! and localized into the [`Report`] (`Issues::report`, through [`crate::messages`]).

use crate::context::Locale;
use crate::report::{Code, Issue, Param, Params, Report, Severity};

/// Where an issue sorts: step, field, item, sub-field, sub-item, sub-sub-field. Indexes of list
/// items are stored plus one, so that an issue about a whole list sorts before its items'.
pub type SortKey = [u32; 6];

/// An issue before localization.
#[derive(Clone, Debug, PartialEq)]
pub struct RawIssue {
    pub key: SortKey,
    pub path: String,
    pub code: Code,
    pub params: Params,
}

/// Collects issues while the rules run, then sorts and localizes them.
#[derive(Clone, Debug, Default)]
pub struct Issues {
    issues: Vec<RawIssue>,
    errors: usize,
}

impl Issues {
    pub fn push(
        &mut self,
        key: SortKey,
        path: String,
        code: Code,
        params: Vec<(&'static str, Param)>,
    ) {
        if code.severity() == Severity::Error {
            self.errors += 1;
        }
        self.issues.push(RawIssue {
            key,
            path,
            code,
            params: Params(params),
        });
    }

    /// How many errors so far: compare before and after checking a part to see if it passed.
    pub fn error_count(&self) -> usize {
        self.errors
    }

    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    pub fn has_errors_under(&self, path: &str) -> bool {
        self.issues.iter().any(|i| {
            i.code.severity() == Severity::Error
                && i.path.starts_with(path)
                && matches!(
                    i.path.as_bytes().get(path.len()),
                    None | Some(b'.') | Some(b'[')
                )
        })
    }

    pub fn report(mut self, locale: Locale) -> Report {
        // Stable: issues with one key keep the order the rules found them in.
        self.issues.sort_by_key(|i| i.key);
        let mut issues: Vec<Issue> = Vec::with_capacity(self.issues.len());
        for raw in self.issues {
            issues.push(Issue {
                message: crate::messages::render(raw.code, &raw.params, locale),
                severity: raw.code.severity(),
                path: raw.path,
                code: raw.code,
                params: raw.params,
            });
        }
        Report {
            valid: !issues.iter().any(|i| i.severity == Severity::Error),
            rules_version: crate::RULES_VERSION,
            issues,
        }
    }
}
