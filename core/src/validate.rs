//! The validator: walks the tables of [`crate::rules`] over normalized JSON, collecting issues
//! and, for every field that passed, its typed value (which the transform reads).
//! One error per field at most (the first rule it breaks), plus any warnings.

use crate::context::Context;
use crate::issues::{Issues, SortKey};
use crate::normalize;
use crate::report::{Code, Param};
use crate::rules::{
    field, Charset, Field, FieldRef, IntMax, ItemRule, Kind, StepId, COMPANY_SIZE_RANGES,
};
use crate::text;
use serde_json::{Map, Value};

/// A field's value once it has passed its rules.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Text(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    Enum(&'static str),
    Set(Vec<&'static str>),
    Emails(Vec<String>),
    List(Vec<Values>),
}

impl FieldValue {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_enum(&self) -> Option<&'static str> {
        match self {
            FieldValue::Enum(e) => Some(e),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            FieldValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_num(&self) -> Option<f64> {
        match self {
            FieldValue::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_set(&self) -> Option<&[&'static str]> {
        match self {
            FieldValue::Set(values) => Some(values),
            _ => None,
        }
    }

    pub fn as_emails(&self) -> Option<&[String]> {
        match self {
            FieldValue::Emails(list) => Some(list),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Values]> {
        match self {
            FieldValue::List(items) => Some(items),
            _ => None,
        }
    }
}

/// The values of one object's fields, by the index of the field in its table; `None` when the
/// field is absent or broke a rule.
pub type Values = Vec<Option<FieldValue>>;

/// What a validation found: the issues, and the values of the fields that passed.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub issues: Issues,
    pub steps: [Option<Values>; 6],
}

impl Outcome {
    pub fn report(self, locale: crate::Locale) -> crate::Report {
        self.issues.report(locale)
    }

    /// The value of a field that passed its rules.
    pub fn get(&self, field: FieldRef) -> Option<&FieldValue> {
        self.steps[field.step.index()]
            .as_ref()?
            .get(field.index)?
            .as_ref()
    }
}

pub fn wizard(input: &Value, ctx: &Context) -> Outcome {
    let mut w = Walker {
        ctx,
        issues: Issues::default(),
    };
    let mut steps: [Option<Values>; 6] = Default::default();
    let Value::Object(obj) = input else {
        w.invalid_type([0; 6], String::new(), "object");
        return Outcome {
            issues: w.issues,
            steps,
        };
    };
    for id in StepId::ALL {
        steps[id.index()] = Some(w.step(id, obj.get(id.name())));
    }
    let unknown = unknown_keys(obj, |k| StepId::parse(k).is_some());
    for (rank, name) in unknown.into_iter().enumerate() {
        w.unknown(key_at([6, 0, 0, 0, 0, 0], 1, rank), name.clone(), name);
    }
    let mut outcome = Outcome {
        issues: w.issues,
        steps,
    };
    cross_step(&mut outcome);
    outcome
}

pub fn step(id: StepId, input: &Value, ctx: &Context) -> Outcome {
    let mut w = Walker {
        ctx,
        issues: Issues::default(),
    };
    let mut steps: [Option<Values>; 6] = Default::default();
    steps[id.index()] = Some(w.step(id, Some(input)));
    Outcome {
        issues: w.issues,
        steps,
    }
}

/// `team_larger_than_company`: the organization's team against the company's headcount.
fn cross_step(outcome: &mut Outcome) {
    let employees = outcome
        .get(field::EMPLOYEE_COUNT)
        .and_then(FieldValue::as_int);
    let team_size = field::TEAM_SIZE;
    let team = outcome.get(team_size).and_then(FieldValue::as_int);
    if let (Some(employees), Some(team)) = (employees, team) {
        if team > employees {
            outcome.issues.push(
                [
                    team_size.step.index() as u32,
                    team_size.index as u32,
                    0,
                    0,
                    0,
                    0,
                ],
                "organization.team_size".to_owned(),
                Code::TeamLargerThanCompany,
                vec![
                    ("team_size", Param::Int(team)),
                    ("employee_count", Param::Int(employees)),
                ],
            );
        }
    }
}

/// In key order: serde_json's `Map` is a `BTreeMap` (no `preserve_order` anywhere in the build;
/// `unknown_keys_come_sorted` fails if that changes).
fn unknown_keys(obj: &Map<String, Value>, known: impl Fn(&str) -> bool) -> Vec<&String> {
    let mut unknown = Vec::new();
    for k in obj.keys() {
        if !known(k) {
            unknown.push(k);
        }
    }
    unknown
}

/// `len` absent values.
fn nones(len: usize) -> Values {
    std::iter::repeat_with(|| None).take(len).collect()
}

fn key_at(mut key: SortKey, level: usize, index: usize) -> SortKey {
    key[level] = u32::try_from(index).unwrap_or(u32::MAX);
    key
}

struct Walker<'c> {
    ctx: &'c Context,
    issues: Issues,
}

impl Walker<'_> {
    fn push(&mut self, key: SortKey, path: String, code: Code, params: Vec<(&'static str, Param)>) {
        self.issues.push(key, path, code, params);
    }

    fn invalid_type(&mut self, key: SortKey, path: String, expected: &'static str) {
        self.push(
            key,
            path,
            Code::InvalidType,
            vec![("expected", Param::Str(expected.into()))],
        );
    }

    fn unknown(&mut self, key: SortKey, path: String, name: &str) {
        self.push(
            key,
            path,
            Code::UnknownField,
            vec![("field", Param::Str(name.to_owned().into()))],
        );
    }

    fn step(&mut self, id: StepId, input: Option<&Value>) -> Values {
        let spec = id.spec();
        let key = key_at([0; 6], 0, id.index());
        let empty = Map::new();
        let obj = match input {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(obj)) => obj,
            Some(_) => {
                self.invalid_type(key, spec.name.to_owned(), "object");
                return nones(spec.fields.len());
            }
        };
        let values = self.object(spec.fields, obj, spec.name, key, 1);
        if id == StepId::Company {
            self.size_mismatch(&values, key);
        }
        values
    }

    /// Checks the fields of one object; `level` is where the field index goes in the sort key.
    fn object(
        &mut self,
        fields: &[Field],
        obj: &Map<String, Value>,
        prefix: &str,
        key: SortKey,
        level: usize,
    ) -> Values {
        let mut present = 0;
        let mut values: Values = Vec::with_capacity(fields.len());
        for (i, f) in fields.iter().enumerate() {
            let raw = obj.get(f.name);
            present += usize::from(raw.is_some());
            values.push(self.field(f, raw, prefix, key_at(key, level, i), level));
        }
        if present == obj.len() {
            return values;
        }
        let unknown = unknown_keys(obj, |k| fields.iter().any(|f| f.name == k));
        for (rank, name) in unknown.into_iter().enumerate() {
            self.unknown(
                key_at(key, level, fields.len() + rank),
                join(prefix, name),
                name,
            );
        }
        values
    }

    fn field(
        &mut self,
        f: &Field,
        raw: Option<&Value>,
        prefix: &str,
        key: SortKey,
        level: usize,
    ) -> Option<FieldValue> {
        let path = || join(prefix, f.name);
        // A list's items are normalized one by one below (a list of objects field by field, an
        // e-mail list address by address), not copied here as a whole.
        let normalized = raw.map(|v| match f.kind {
            Kind::List { .. } | Kind::EmailList { .. } => std::borrow::Cow::Borrowed(v),
            _ => normalize::value(&f.kind, v),
        });
        let value = normalized.as_deref();
        let absent = match value {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if absent {
            if f.required {
                self.push(key, path(), Code::Required, vec![]);
            }
            return None;
        }
        let value = value?;
        match f.kind {
            Kind::Text { .. } | Kind::Multiline { .. } => {
                let (min, max, charset, multiline) = match f.kind {
                    Kind::Text { min, max, charset } => (min, max, charset, false),
                    Kind::Multiline { min, max } => (min, max, Charset::Any, true),
                    _ => return None,
                };
                if !self.text(value, min, max, charset, multiline, key, &path) {
                    return None;
                }
                match normalized {
                    Some(std::borrow::Cow::Owned(Value::String(s))) => Some(FieldValue::Text(s)),
                    Some(std::borrow::Cow::Borrowed(Value::String(s))) => {
                        Some(FieldValue::Text(s.clone()))
                    }
                    _ => None,
                }
            }
            Kind::Enum(options) => match value {
                Value::String(s) => match options.iter().find(|o| *o == s) {
                    Some(o) => Some(FieldValue::Enum(o)),
                    None => {
                        self.invalid_enum(key, path(), options);
                        None
                    }
                },
                _ => {
                    self.invalid_type(key, path(), "string");
                    None
                }
            },
            Kind::EnumSet { options, min, max } => {
                self.enum_set(value, options, min, max, key, level, path())
            }
            Kind::Integer { min, max } => {
                let max = match max {
                    IntMax::Fixed(m) => m,
                    IntMax::ReferenceYear => i64::from(self.ctx.today.year()),
                };
                self.integer(value, min, max, key, &path)
            }
            Kind::Number => match value {
                Value::Number(n) => n.as_f64().map(FieldValue::Num),
                Value::String(_) => {
                    self.push(key, path(), Code::NotNumber, vec![]);
                    None
                }
                _ => {
                    self.invalid_type(key, path(), "number");
                    None
                }
            },
            Kind::Country => self.string_rule(value, key, &path, Code::InvalidCountry, |s| {
                crate::reference::is_country(s)
            }),
            Kind::Url => match value {
                Value::String(s) if s.len() > crate::url::MAX_LEN => {
                    self.push(
                        key,
                        path(),
                        Code::TooLong,
                        vec![("max", Param::Int(crate::url::MAX_LEN as i64))],
                    );
                    None
                }
                _ => self.string_rule(value, key, &path, Code::InvalidUrl, crate::url::is_valid),
            },
            Kind::Timezone => self.string_rule(value, key, &path, Code::InvalidTimezone, |s| {
                crate::reference::canonical_timezone(s) == Some(s)
            }),
            Kind::MustBeTrue => match value {
                Value::Bool(true) => Some(FieldValue::Bool(true)),
                Value::Bool(false) => {
                    self.push(key, path(), Code::MustBeTrue, vec![]);
                    None
                }
                _ => {
                    self.invalid_type(key, path(), "boolean");
                    None
                }
            },
            Kind::EmailList { max } => self.emails(value, max, key, level, path()),
            Kind::List {
                item,
                min,
                max,
                warn_above,
                unique,
                item_rule,
            } => {
                let list = ListSpec {
                    item,
                    min,
                    max,
                    warn_above,
                    unique,
                    item_rule,
                };
                self.list(value, &list, key, level, path())
            }
        }
    }

    /// Checks a normalized text; `false` when it broke a rule (reported).
    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        value: &Value,
        min: usize,
        max: usize,
        charset: Charset,
        multiline: bool,
        key: SortKey,
        path: &dyn Fn() -> String,
    ) -> bool {
        let Value::String(s) = value else {
            self.invalid_type(key, path(), "string");
            return false;
        };
        let controls = offending(s, |c| text::is_forbidden_control(c, multiline));
        if !controls.is_empty() {
            self.push(
                key,
                path(),
                Code::InvalidCharacters,
                vec![("characters", Param::Str(controls.into()))],
            );
            return false;
        }
        let len = text::char_count(s);
        if len < min {
            self.push(
                key,
                path(),
                Code::TooShort,
                vec![("min", Param::Int(min as i64))],
            );
            return false;
        }
        if len > max {
            self.push(
                key,
                path(),
                Code::TooLong,
                vec![("max", Param::Int(max as i64))],
            );
            return false;
        }
        let refused = offending(s, |c| !charset.allows(c));
        if !refused.is_empty() {
            self.push(
                key,
                path(),
                Code::InvalidCharacters,
                vec![("characters", Param::Str(refused.into()))],
            );
            return false;
        }
        if charset == Charset::CompanyName && !s.chars().any(text::is_letter_or_digit) {
            self.push(key, path(), Code::NoLetterOrDigit, vec![]);
            return false;
        }
        true
    }

    fn invalid_enum(&mut self, key: SortKey, path: String, options: &'static [&'static str]) {
        self.push(
            key,
            path,
            Code::InvalidEnum,
            vec![("allowed", Param::Options(options))],
        );
    }

    fn string_rule(
        &mut self,
        value: &Value,
        key: SortKey,
        path: &dyn Fn() -> String,
        code: Code,
        ok: impl Fn(&str) -> bool,
    ) -> Option<FieldValue> {
        match value {
            Value::String(s) if ok(s) => Some(FieldValue::Text(s.clone())),
            Value::String(_) => {
                self.push(key, path(), code, vec![]);
                None
            }
            _ => {
                self.invalid_type(key, path(), "string");
                None
            }
        }
    }

    fn integer(
        &mut self,
        value: &Value,
        min: i64,
        max: i64,
        key: SortKey,
        path: &dyn Fn() -> String,
    ) -> Option<FieldValue> {
        let out_of_range = |w: &mut Self, path: &dyn Fn() -> String| {
            w.push(
                key,
                path(),
                Code::OutOfRange,
                vec![("min", Param::Int(min)), ("max", Param::Int(max))],
            );
            None
        };
        match value {
            Value::Number(n) => match n.as_i64() {
                Some(i) if (min..=max).contains(&i) => Some(FieldValue::Int(i)),
                Some(_) => out_of_range(self, path),
                None if n.is_u64() => out_of_range(self, path),
                // Normalization already turned every integral float that fits an i64 into an integer.
                None if n.as_f64().is_some_and(|f| f.fract() == 0.0) => out_of_range(self, path),
                None => {
                    self.push(key, path(), Code::NotInteger, vec![]);
                    None
                }
            },
            // Normalization already turned every integer string that fits an i64 into a number.
            Value::String(s) if normalize::is_integer_syntax(s) => out_of_range(self, path),
            Value::String(_) => {
                self.push(key, path(), Code::NotInteger, vec![]);
                None
            }
            _ => {
                self.invalid_type(key, path(), "integer");
                None
            }
        }
    }

    /// Checks a list's length; returns the items to check one by one (at most `max` of them).
    fn list_items<'v>(
        &mut self,
        value: &'v Value,
        min: usize,
        max: usize,
        key: SortKey,
        path: &str,
    ) -> Option<&'v [Value]> {
        let Value::Array(items) = value else {
            self.invalid_type(key, path.to_owned(), "array");
            return None;
        };
        if items.len() < min {
            self.push(
                key,
                path.to_owned(),
                Code::TooFewItems,
                vec![("min", Param::Int(min as i64))],
            );
        } else if items.len() > max {
            self.push(
                key,
                path.to_owned(),
                Code::TooManyItems,
                vec![("max", Param::Int(max as i64))],
            );
        }
        Some(&items[..items.len().min(max)])
    }

    #[allow(clippy::too_many_arguments)]
    fn enum_set(
        &mut self,
        value: &Value,
        options: &'static [&'static str],
        min: usize,
        max: usize,
        key: SortKey,
        level: usize,
        path: String,
    ) -> Option<FieldValue> {
        let errors_before = self.issues.error_count();
        let items = self.list_items(value, min, max, key, &path)?;
        let mut chosen: Vec<&'static str> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_key = key_at(key, level + 1, i + 1);
            let item_path = || indexed(&path, i);
            match item {
                Value::String(s) => match options.iter().find(|o| *o == s) {
                    Some(o) if chosen.contains(o) => {
                        let first = chosen.iter().position(|c| c == o).unwrap_or(0);
                        self.push(
                            item_key,
                            item_path(),
                            Code::DuplicateItem,
                            vec![("duplicate_of", Param::Int(first as i64))],
                        );
                        chosen.push(o);
                    }
                    Some(o) => chosen.push(o),
                    None => {
                        self.invalid_enum(item_key, item_path(), options);
                        chosen.push("");
                    }
                },
                _ => {
                    self.invalid_type(item_key, item_path(), "string");
                    chosen.push("");
                }
            }
        }
        (self.issues.error_count() == errors_before).then_some(FieldValue::Set(chosen))
    }

    fn emails(
        &mut self,
        value: &Value,
        max: usize,
        key: SortKey,
        level: usize,
        path: String,
    ) -> Option<FieldValue> {
        let errors_before = self.issues.error_count();
        let items = self.list_items(value, 0, max, key, &path)?;
        let mut seen: Vec<String> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_key = key_at(key, level + 1, i + 1);
            let item_path = || indexed(&path, i);
            let Value::String(raw) = item else {
                self.invalid_type(item_key, item_path(), "string");
                seen.push(String::new());
                continue;
            };
            let addr = crate::email::normalize(raw);
            if !crate::email::is_valid(&addr) {
                self.push(item_key, item_path(), Code::InvalidEmail, vec![]);
            } else if self.ctx.self_email.as_deref() == Some(addr.as_str()) {
                self.push(item_key, item_path(), Code::CannotInviteSelf, vec![]);
            } else if let Some(first) = seen.iter().position(|s| *s == addr) {
                self.push(
                    item_key,
                    item_path(),
                    Code::DuplicateItem,
                    vec![("duplicate_of", Param::Int(first as i64))],
                );
            } else if let Some(domain) = addr
                .rsplit_once('@')
                .map(|(_, d)| d)
                .filter(|d| crate::domains::is_personal_email_domain(d))
            {
                let domain = Param::Str(domain.to_owned().into());
                self.push(
                    item_key,
                    item_path(),
                    Code::PersonalEmailDomain,
                    vec![("domain", domain)],
                );
            }
            seen.push(addr);
        }
        (self.issues.error_count() == errors_before).then_some(FieldValue::Emails(seen))
    }

    fn list(
        &mut self,
        value: &Value,
        spec: &ListSpec,
        key: SortKey,
        level: usize,
        path: String,
    ) -> Option<FieldValue> {
        let errors_before = self.issues.error_count();
        let items = self.list_items(value, spec.min, spec.max, key, &path)?;
        if let (Some(above), Value::Array(all)) = (spec.warn_above, value) {
            if all.len() > above && all.len() <= spec.max {
                let params = vec![
                    ("count", Param::Int(all.len() as i64)),
                    ("recommended_max", Param::Int(above as i64)),
                ];
                self.push(key, path.clone(), Code::TooManyKeyResults, params);
            }
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_key = key_at(key, level + 1, i + 1);
            let item_path = indexed(&path, i);
            let Value::Object(obj) = item else {
                self.invalid_type(item_key, item_path, "object");
                out.push(nones(spec.item.len()));
                continue;
            };
            let values = self.object(spec.item, obj, &item_path, item_key, level + 2);
            if spec.item_rule == Some(ItemRule::KeyResultTarget) {
                self.key_result_target(spec.item, &values, &item_path, item_key, level + 2);
            }
            out.push(values);
        }
        if let Some(unique) = spec.unique {
            self.unique_titles(spec.item, &out, unique, key, level, &path);
        }
        (self.issues.error_count() == errors_before).then_some(FieldValue::List(out))
    }

    /// `duplicate_item` on the later of two items whose `field` is equal ignoring case.
    fn unique_titles(
        &mut self,
        item: &[Field],
        values: &[Values],
        field: &str,
        key: SortKey,
        level: usize,
        path: &str,
    ) {
        let Some(fi) = item.iter().position(|f| f.name == field) else {
            return;
        };
        let mut seen: Vec<Option<String>> = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let folded = match v.get(fi) {
                Some(Some(FieldValue::Text(t))) => Some(crate::nfc::lowercase(t)),
                _ => None,
            };
            if let Some(t) = &folded {
                if let Some(first) = seen.iter().position(|s| s.as_ref() == Some(t)) {
                    let k = key_at(key_at(key, level + 1, i + 1), level + 2, fi);
                    self.push(
                        k,
                        join(&indexed(path, i), field),
                        Code::DuplicateItem,
                        vec![("duplicate_of", Param::Int(first as i64))],
                    );
                }
            }
            seen.push(folded);
        }
    }

    /// The key result rules across `metric_type`, `baseline` and `target`.
    fn key_result_target(
        &mut self,
        item: &[Field],
        values: &Values,
        path: &str,
        key: SortKey,
        level: usize,
    ) {
        let index = |name: &str| item.iter().position(|f| f.name == name).unwrap_or(0);
        let (mi, bi, ti) = (index("metric_type"), index("baseline"), index("target"));
        let (Some(Some(FieldValue::Enum(metric))), Some(Some(FieldValue::Num(target)))) =
            (values.get(mi), values.get(ti))
        else {
            return;
        };
        let mut baseline_broken = false;
        let baseline = match values.get(bi) {
            Some(Some(FieldValue::Num(b))) => *b,
            // A broken baseline is reported already; an absent one defaults to 0.
            _ if self.issues.has_errors_under(&join(path, "baseline")) => return,
            _ => 0.0,
        };
        let target = *target;
        let at = |name: &str, i: usize| (key_at(key, level, i), join(path, name));
        let mut target_broken = false;
        match *metric {
            "percentage" => {
                let range = || vec![("min", Param::Int(0)), ("max", Param::Int(100))];
                if !(0.0..=100.0).contains(&baseline) {
                    let (k, p) = at("baseline", bi);
                    self.push(k, p, Code::OutOfRange, range());
                    baseline_broken = true;
                }
                if !(0.0..=100.0).contains(&target) {
                    let (k, p) = at("target", ti);
                    self.push(k, p, Code::OutOfRange, range());
                    target_broken = true;
                }
            }
            "boolean" => {
                if baseline != 0.0 {
                    let (k, p) = at("baseline", bi);
                    self.push(k, p, Code::InvalidValue, vec![("expected", Param::Int(0))]);
                    baseline_broken = true;
                }
                if target != 1.0 {
                    let (k, p) = at("target", ti);
                    self.push(k, p, Code::InvalidValue, vec![("expected", Param::Int(1))]);
                    target_broken = true;
                }
            }
            _ => {}
        }
        if !target_broken && !baseline_broken && target == baseline {
            let (k, p) = at("target", ti);
            self.push(
                k,
                p,
                Code::TargetEqualsBaseline,
                vec![("baseline", number_param(baseline))],
            );
        }
    }

    /// `size_mismatch`: the employee count against the range of the chosen company size.
    fn size_mismatch(&mut self, values: &Values, key: SortKey) {
        let spec = StepId::Company.spec();
        let (Some((si, _)), Some((ei, _))) =
            (spec.field("company_size"), spec.field("employee_count"))
        else {
            return;
        };
        let (Some(Some(FieldValue::Enum(size))), Some(Some(FieldValue::Int(count)))) =
            (values.get(si), values.get(ei))
        else {
            return;
        };
        let Some(&(_, min, max)) = COMPANY_SIZE_RANGES.iter().find(|r| r.0 == *size) else {
            return;
        };
        if *count < min || max.is_some_and(|m| *count > m) {
            let mut params = vec![
                ("employee_count", Param::Int(*count)),
                ("company_size", Param::Str((*size).into())),
                ("min", Param::Int(min)),
            ];
            if let Some(m) = max {
                params.push(("max", Param::Int(m)));
            }
            self.push(
                key_at(key, 1, ei),
                "company.employee_count".to_owned(),
                Code::SizeMismatch,
                params,
            );
        }
    }
}

struct ListSpec {
    item: &'static [Field],
    min: usize,
    max: usize,
    warn_above: Option<usize>,
    unique: Option<&'static str>,
    item_rule: Option<ItemRule>,
}

/// Integers as integers (`0`, not `0.0`) in params and messages.
fn number_param(n: f64) -> Param {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Param::Int(n as i64)
    } else {
        Param::Num(n)
    }
}

/// `prefix.name`.
fn join(prefix: &str, name: &str) -> String {
    [prefix, ".", name].concat()
}

/// `path[i]`.
fn indexed(path: &str, i: usize) -> String {
    [path, "[", itoa::Buffer::new().format(i), "]"].concat()
}

/// The distinct characters of `s` that `bad` refuses, as shown to users (at most five).
fn offending(s: &str, bad: impl Fn(char) -> bool) -> String {
    let mut found: Vec<char> = Vec::new();
    for c in s.chars().filter(|&c| bad(c)) {
        if !found.contains(&c) {
            found.push(c);
            if found.len() == 5 {
                break;
            }
        }
    }
    let mut shown = String::new();
    for c in found {
        if !shown.is_empty() {
            shown.push(' ');
        }
        shown.push_str(&text::display_char(c));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_come_sorted() {
        let obj: Value = serde_json::from_str(r#"{"zeta": 1, "name": 2, "alpha": 3, "Beta": 4}"#)
            .expect("valid JSON");
        let Value::Object(obj) = obj else {
            unreachable!()
        };
        let names: Vec<&str> = unknown_keys(&obj, |k| k == "name")
            .into_iter()
            .map(String::as_str)
            .collect();
        assert_eq!(names, ["Beta", "alpha", "zeta"]);
    }
}
