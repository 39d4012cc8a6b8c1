#!/usr/bin/env python3
"""Writes the shared test vectors in tests/vectors/*.json from the spec (docs: tests/vectors/README.md).

Expectations here are written from ../shared/spec/ONBOARDING.md and docs/decisions.md, never by
running the rules: both the native tests and the npm package check every case against them.
Run: python3 tools/gen_vectors.py   (rewrites tests/vectors; commit the result)
"""
import copy
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "vectors")
BASE = json.load(open(os.path.join(ROOT, "tests", "fixtures", "valid_wizard.json")))
TODAY = "2026-11-27"
WARNINGS = {"size_mismatch", "team_larger_than_company", "too_many_key_results", "personal_email_domain"}
DELETE = object()

STEP_FIELDS = {
    "welcome": ["full_name", "job_title", "experience_with_okr", "primary_goal", "urgency_level"],
    "company": ["company_name", "industry", "company_size", "employee_count", "country", "website",
                "description", "founded_year"],
    "organization": ["department", "team_size", "okr_maturity", "current_challenges", "business_goals"],
    "objectives": ["objectives"],
    "preferences": ["language", "communication_style", "notification_frequency", "focus_areas",
                    "ai_assistance_level", "timezone", "okr_cycle"],
    "review": ["confirmed", "terms_accepted", "additional_notes", "setup_demo", "invite_emails"],
}
REQUIRED = {
    "welcome": STEP_FIELDS["welcome"],
    "company": ["company_name", "industry", "company_size", "country", "description"],
    "organization": ["okr_maturity", "current_challenges", "business_goals"],
    "objectives": [],
    "preferences": ["language", "communication_style", "notification_frequency", "focus_areas",
                    "ai_assistance_level", "timezone"],
    "review": ["confirmed", "terms_accepted"],
}

files = {}


def issue(path, code, message=None, params=None):
    i = {"path": path, "code": code, "severity": "warning" if code in WARNINGS else "error"}
    if message is not None:
        i["message"] = message
    if params is not None:
        i["params"] = params
    return i


def norm_issues(issues):
    return [i if isinstance(i, dict) else issue(*i) for i in issues]


def add(file, name, input, issues=(), step=None, context=None, valid=None):
    issues = norm_issues(issues)
    ctx = {"today": TODAY}
    ctx.update(context or {})
    case = {"name": name}
    if step:
        case["step"] = step
    case["context"] = ctx
    case["input"] = input
    if valid is None:
        valid = not any(i["severity"] == "error" for i in issues)
    case["expect"] = {"valid": valid, "issues": issues}
    files.setdefault(file, []).append(case)


def patched_step(step, **fields):
    data = copy.deepcopy(BASE[step])
    for k, v in fields.items():
        if v is DELETE:
            data.pop(k, None)
        else:
            data[k] = v
    return data


def step_case(step, name, fields, issues=(), context=None, file=None):
    add(file or step, name, patched_step(step, **fields), issues, step=step, context=context)


def wizard(**steps):
    w = copy.deepcopy(BASE)
    for step, fields in steps.items():
        if fields is DELETE:
            w.pop(step)
        elif isinstance(fields, dict) and step in w:
            w[step].update(fields)
        else:
            w[step] = fields
    return w


def letters(n, ch="a"):
    return ch * n


# ---------------------------------------------------------------- welcome
S = "welcome"
P = "welcome."
step_case(S, "valid step", {})
step_case(S, "full_name 1 char is too short", {"full_name": "A"}, [(P + "full_name", "too_short", None, {"min": 2})])
step_case(S, "full_name 2 chars is enough", {"full_name": "Al"})
step_case(S, "full_name 100 chars is allowed", {"full_name": letters(100)})
step_case(S, "full_name 101 chars is too long", {"full_name": letters(101)}, [(P + "full_name", "too_long", None, {"max": 100})])
step_case(S, "full_name missing", {"full_name": DELETE}, [(P + "full_name", "required")])
step_case(S, "full_name empty", {"full_name": ""}, [(P + "full_name", "required")])
step_case(S, "full_name only spaces", {"full_name": "   \t "}, [(P + "full_name", "required")])
step_case(S, "full_name null", {"full_name": None}, [(P + "full_name", "required")])
step_case(S, "full_name number", {"full_name": 123}, [(P + "full_name", "invalid_type", None, {"expected": "string"})])
step_case(S, "full_name array", {"full_name": ["Ana"]}, [(P + "full_name", "invalid_type")])
step_case(S, "full_name object", {"full_name": {"first": "Ana"}}, [(P + "full_name", "invalid_type")])
step_case(S, "full_name with digit", {"full_name": "Ana3"}, [(P + "full_name", "invalid_characters", None, {"characters": "3"})])
step_case(S, "full_name with @", {"full_name": "ana@x"}, [(P + "full_name", "invalid_characters")])
step_case(S, "full_name Spanish diacritics", {"full_name": "José Ñúñez Güemes"})
step_case(S, "full_name Chinese", {"full_name": "李小龙"})
step_case(S, "full_name Cyrillic", {"full_name": "Мария Иванова"})
step_case(S, "full_name Arabic", {"full_name": "محمد علي"})
step_case(S, "full_name Devanagari with virama", {"full_name": "लक्ष्मी"})
# Unicode 15.0 and later, the version of every character property the rules use (std's):
step_case(S, "full_name Kawi with its conjoiner (a combining mark since Unicode 15.0)", {"full_name": "\U00011F12\U00011F42\U00011F13\U00011F04"})
step_case(S, "full_name Arabic with pepet (a combining mark since Unicode 15.0)", {"full_name": "محمد\u0897"})
step_case(S, "full_name apostrophe hyphen dot", {"full_name": "J. O'Brien-Smith"})
step_case(S, "full_name typographic apostrophe", {"full_name": "D’Angelo"})
step_case(S, "full_name emoji", {"full_name": "Ana 😀"}, [(P + "full_name", "invalid_characters", None, {"characters": "😀"})])
step_case(S, "full_name control char", {"full_name": "Ana\u0007"}, [(P + "full_name", "invalid_characters", None, {"characters": "U+0007"})])
step_case(S, "full_name NUL", {"full_name": "An\u0000a"}, [(P + "full_name", "invalid_characters")])
step_case(S, "full_name tab and newline collapse", {"full_name": "Ana\t\nMaría"})
step_case(S, "full_name NFD composes to 1 char", {"full_name": "E\u0301"}, [(P + "full_name", "too_short")])
step_case(S, "full_name NFD long name counts composed", {"full_name": "e\u0301" * 100})
step_case(S, "full_name NFD 101 composed too long", {"full_name": "e\u0301" * 101}, [(P + "full_name", "too_long")])
step_case(S, "full_name inner spaces collapsed before length", {"full_name": "A" + " " * 200 + "B"})
step_case(S, "job_title 1 char too short", {"job_title": "X"}, [(P + "job_title", "too_short")])
step_case(S, "job_title 2 chars", {"job_title": "PM"})
step_case(S, "job_title 100 chars", {"job_title": letters(100, "x")})
step_case(S, "job_title 101 chars", {"job_title": letters(101, "x")}, [(P + "job_title", "too_long")])
step_case(S, "job_title emoji allowed", {"job_title": "CEO 🚀"})
step_case(S, "job_title 100 emoji", {"job_title": "🚀" * 100})
step_case(S, "job_title 101 emoji", {"job_title": "🚀" * 101}, [(P + "job_title", "too_long")])
step_case(S, "job_title ZWJ family counts scalars", {"job_title": "👨‍👩‍👧"})
step_case(S, "job_title control char", {"job_title": "CEO\u001b[31m"}, [(P + "job_title", "invalid_characters")])
step_case(S, "job_title DEL char", {"job_title": "CEO\u007f"}, [(P + "job_title", "invalid_characters")])
step_case(S, "job_title C1 control", {"job_title": "CEO\u0085x"}, [])  # U+0085 NEL is whitespace
step_case(S, "job_title C1 control 0x9b", {"job_title": "CEO\u009bx"}, [(P + "job_title", "invalid_characters")])
step_case(S, "job_title bool", {"job_title": True}, [(P + "job_title", "invalid_type")])
for v in ["none", "beginner", "intermediate", "advanced"]:
    step_case(S, f"experience {v}", {"experience_with_okr": v})
step_case(S, "experience capitalized", {"experience_with_okr": "Beginner"},
          [(P + "experience_with_okr", "invalid_enum", None, {"allowed": ["none", "beginner", "intermediate", "advanced"]})])
step_case(S, "experience with spaces", {"experience_with_okr": " beginner"}, [(P + "experience_with_okr", "invalid_enum")])
step_case(S, "experience number", {"experience_with_okr": 1}, [(P + "experience_with_okr", "invalid_type")])
step_case(S, "experience empty", {"experience_with_okr": ""}, [(P + "experience_with_okr", "required")])
step_case(S, "primary_goal 9 chars", {"primary_goal": "123456789"}, [(P + "primary_goal", "too_short", None, {"min": 10})])
step_case(S, "primary_goal 10 chars", {"primary_goal": "1234567890"})
step_case(S, "primary_goal trimmed before length", {"primary_goal": "   123456789   "}, [(P + "primary_goal", "too_short")])
step_case(S, "primary_goal 500 chars", {"primary_goal": letters(500)})
step_case(S, "primary_goal 501 chars", {"primary_goal": letters(501)}, [(P + "primary_goal", "too_long", None, {"max": 500})])
step_case(S, "primary_goal CRLF counts as one", {"primary_goal": ("a" * 9 + "\r\n") * 50})  # 50*10 -1 trailing = 499
step_case(S, "primary_goal multiline with tab", {"primary_goal": "Line one\n\tLine two"})
step_case(S, "primary_goal NUL", {"primary_goal": "Goal goal\u0000 goal"}, [(P + "primary_goal", "invalid_characters")])
step_case(S, "primary_goal huge string", {"primary_goal": "x" * 1_000_000}, [(P + "primary_goal", "too_long")])
for v in ["low", "medium", "high", "critical"]:
    step_case(S, f"urgency {v}", {"urgency_level": v})
step_case(S, "urgency urgent", {"urgency_level": "urgent"}, [(P + "urgency_level", "invalid_enum")])
step_case(S, "unknown field is reported", {"fullname": "Ana"}, [(P + "fullname", "unknown_field", None, {"field": "fullname"})])
step_case(S, "unknown fields sorted after known", {"zeta": 1, "alpha": 2, "full_name": "A"},
          [(P + "full_name", "too_short"), (P + "alpha", "unknown_field"), (P + "zeta", "unknown_field")])
add(S, "step not an object", ["Ana"], [("welcome", "invalid_type", None, {"expected": "object"})], step=S)
add(S, "step is a string", "hola", [("welcome", "invalid_type")], step=S)
add(S, "empty step reports every required field in order", {},
    [(P + f, "required") for f in REQUIRED[S]], step=S)
add(S, "null step is empty", None, [(P + f, "required") for f in REQUIRED[S]], step=S)

# ---------------------------------------------------------------- company
S = "company"
P = "company."
step_case(S, "valid step", {})
step_case(S, "company_name 1 char", {"company_name": "A"}, [(P + "company_name", "too_short")])
step_case(S, "company_name 2 chars", {"company_name": "3M"})
step_case(S, "company_name 120 chars", {"company_name": letters(120, "b")})
step_case(S, "company_name 121 chars", {"company_name": letters(121, "b")}, [(P + "company_name", "too_long", None, {"max": 120})])
step_case(S, "company_name all punctuation", {"company_name": "--"}, [(P + "company_name", "no_letter_or_digit")])
step_case(S, "company_name only symbols allowed ones", {"company_name": "&(),+/"}, [(P + "company_name", "no_letter_or_digit")])
step_case(S, "company_name with #", {"company_name": "Acme #1"}, [(P + "company_name", "invalid_characters", None, {"characters": "#"})])
step_case(S, "company_name with ! and ?", {"company_name": "Yahoo!?"}, [(P + "company_name", "invalid_characters", None, {"characters": "! ?"})])
step_case(S, "company_name every allowed symbol", {"company_name": "A&B (Holdings), S.A. + Co/Ltd_x-y's"})
step_case(S, "company_name Japanese", {"company_name": "東京電力"})
step_case(S, "company_name Arabic digits", {"company_name": "شركة ٣"})
step_case(S, "company_name emoji", {"company_name": "Acme 🚀"}, [(P + "company_name", "invalid_characters")])
step_case(S, "company_name NFD", {"company_name": "Cafe\u0301 Nin\u0303o"})
step_case(S, "company_name missing", {"company_name": DELETE}, [(P + "company_name", "required")])
for v in ["technology", "finance", "healthcare", "education", "retail", "manufacturing", "consulting", "other"]:
    step_case(S, f"industry {v}", {"industry": v})
step_case(S, "industry unknown", {"industry": "tech"}, [(P + "industry", "invalid_enum")])
step_case(S, "company_size unknown", {"company_size": "huge"}, [(P + "company_size", "invalid_enum")])
step_case(S, "company_size missing", {"company_size": DELETE}, [(P + "company_size", "required")])
step_case(S, "employee_count 0", {"employee_count": 0}, [(P + "employee_count", "out_of_range", None, {"min": 1, "max": 1000000})])
step_case(S, "employee_count negative", {"employee_count": -5}, [(P + "employee_count", "out_of_range")])
step_case(S, "employee_count 1 startup", {"employee_count": 1, "company_size": "startup"})
step_case(S, "employee_count 10 startup", {"employee_count": 10, "company_size": "startup"})
step_case(S, "employee_count 11 startup mismatch", {"employee_count": 11, "company_size": "startup"},
          [(P + "employee_count", "size_mismatch", None, {"employee_count": 11, "company_size": "startup", "min": 1, "max": 10})])
step_case(S, "employee_count 11 small", {"employee_count": 11, "company_size": "small"})
step_case(S, "employee_count 50 small", {"employee_count": 50, "company_size": "small"})
step_case(S, "employee_count 51 small mismatch", {"employee_count": 51, "company_size": "small"}, [(P + "employee_count", "size_mismatch")])
step_case(S, "employee_count 200 medium", {"employee_count": 200, "company_size": "medium"})
step_case(S, "employee_count 201 large", {"employee_count": 201, "company_size": "large"})
step_case(S, "employee_count 1000 large", {"employee_count": 1000, "company_size": "large"})
step_case(S, "employee_count 1000 enterprise mismatch", {"employee_count": 1000, "company_size": "enterprise"},
          [(P + "employee_count", "size_mismatch", None, {"employee_count": 1000, "company_size": "enterprise", "min": 1001})])
step_case(S, "employee_count 1000000 enterprise", {"employee_count": 1000000, "company_size": "enterprise"})
step_case(S, "employee_count 1000001", {"employee_count": 1000001, "company_size": "enterprise"}, [(P + "employee_count", "out_of_range")])
step_case(S, "employee_count string", {"employee_count": "42"})
step_case(S, "employee_count padded string", {"employee_count": " 42 "})
step_case(S, "employee_count plus sign string", {"employee_count": "+42"})
step_case(S, "employee_count decimal string", {"employee_count": "4.2"}, [(P + "employee_count", "not_integer")])
step_case(S, "employee_count decimal number", {"employee_count": 4.5}, [(P + "employee_count", "not_integer")])
step_case(S, "employee_count integral float", {"employee_count": 45.0})
step_case(S, "employee_count exponent", {"employee_count": 4.5e1})
step_case(S, "employee_count word", {"employee_count": "forty"}, [(P + "employee_count", "not_integer")])
step_case(S, "employee_count huge digit string", {"employee_count": "99999999999999999999"}, [(P + "employee_count", "out_of_range")])
step_case(S, "employee_count huge number", {"employee_count": 18446744073709551615}, [(P + "employee_count", "out_of_range")])
step_case(S, "employee_count huge float", {"employee_count": 1e300}, [(P + "employee_count", "out_of_range")])
step_case(S, "employee_count bool", {"employee_count": True}, [(P + "employee_count", "invalid_type", None, {"expected": "integer"})])
step_case(S, "employee_count array", {"employee_count": [42]}, [(P + "employee_count", "invalid_type")])
step_case(S, "employee_count empty string is absent", {"employee_count": ""})
step_case(S, "employee_count null is absent", {"employee_count": None})
step_case(S, "country lower case", {"country": "es"})
step_case(S, "country padded", {"country": " ar "})
step_case(S, "country unknown", {"country": "XX"}, [(P + "country", "invalid_country")])
step_case(S, "country alpha-3", {"country": "MEX"}, [(P + "country", "invalid_country")])
step_case(S, "country name", {"country": "Mexico"}, [(P + "country", "invalid_country")])
step_case(S, "country number", {"country": 484}, [(P + "country", "invalid_type")])
step_case(S, "country empty", {"country": ""}, [(P + "country", "required")])
step_case(S, "website bare host", {"website": "acme.com"})
step_case(S, "website with slash", {"website": "https://acme.com/"})
step_case(S, "website http", {"website": "http://www.acme.com/about"})
step_case(S, "website with port and query", {"website": "https://acme.com:8443/a?b=c#d"})
step_case(S, "website ftp", {"website": "ftp://acme.com"}, [(P + "website", "invalid_url")])
step_case(S, "website javascript", {"website": "javascript:alert(1)"}, [(P + "website", "invalid_url")])
step_case(S, "website no dot", {"website": "localhost"}, [(P + "website", "invalid_url")])
step_case(S, "website space", {"website": "http://ac me.com"}, [(P + "website", "invalid_url")])
step_case(S, "website userinfo", {"website": "https://user:pass@acme.com"}, [(P + "website", "invalid_url")])
step_case(S, "website 2048 chars", {"website": "https://acme.com/" + "a" * (2048 - 17)})
step_case(S, "website 2049 chars", {"website": "https://acme.com/" + "a" * (2049 - 17)}, [(P + "website", "too_long", None, {"max": 2048})])
step_case(S, "website empty is absent", {"website": ""})
step_case(S, "website null is absent", {"website": None})
step_case(S, "website number", {"website": 42}, [(P + "website", "invalid_type")])
step_case(S, "description 19 chars", {"description": letters(19)}, [(P + "description", "too_short", None, {"min": 20})])
step_case(S, "description 20 chars", {"description": letters(20)})
step_case(S, "description 1000 chars", {"description": letters(1000)})
step_case(S, "description 1001 chars", {"description": letters(1001)}, [(P + "description", "too_long", None, {"max": 1000})])
step_case(S, "founded_year 1799", {"founded_year": 1799}, [(P + "founded_year", "out_of_range", None, {"min": 1800, "max": 2026})])
step_case(S, "founded_year 1800", {"founded_year": 1800})
step_case(S, "founded_year this year", {"founded_year": 2026})
step_case(S, "founded_year next year", {"founded_year": 2027}, [(P + "founded_year", "out_of_range", None, {"min": 1800, "max": 2026})])
step_case(S, "founded_year next year is fine later", {"founded_year": 2027}, context={"today": "2027-01-01"})
step_case(S, "founded_year string", {"founded_year": "2015"})
step_case(S, "every field wrong at once in field order",
          {"company_name": "", "industry": "x", "company_size": 3, "employee_count": "x", "country": "ZZ",
           "website": "ftp://x.com", "description": "short", "founded_year": 1500},
          [(P + "company_name", "required"), (P + "industry", "invalid_enum"), (P + "company_size", "invalid_type"),
           (P + "employee_count", "not_integer"), (P + "country", "invalid_country"), (P + "website", "invalid_url"),
           (P + "description", "too_short"), (P + "founded_year", "out_of_range")])

# ---------------------------------------------------------------- organization
S = "organization"
P = "organization."
step_case(S, "valid step", {})
step_case(S, "department empty", {"department": ""})
step_case(S, "department absent", {"department": DELETE})
step_case(S, "department 100", {"department": letters(100)})
step_case(S, "department 101", {"department": letters(101)}, [(P + "department", "too_long")])
step_case(S, "team_size 0", {"team_size": 0}, [(P + "team_size", "out_of_range", None, {"min": 1, "max": 10000})])
step_case(S, "team_size 1", {"team_size": 1})
step_case(S, "team_size 10000", {"team_size": 10000})
step_case(S, "team_size 10001", {"team_size": 10001}, [(P + "team_size", "out_of_range")])
step_case(S, "team_size string", {"team_size": "8"})
step_case(S, "okr_maturity expert", {"okr_maturity": "expert"}, [(P + "okr_maturity", "invalid_enum")])
step_case(S, "okr_maturity none is not an option", {"okr_maturity": "none"}, [(P + "okr_maturity", "invalid_enum")])
step_case(S, "challenges empty list", {"current_challenges": []}, [(P + "current_challenges", "too_few_items", None, {"min": 1})])
step_case(S, "challenges all 8", {"current_challenges": ["alignment", "measurement", "focus", "communication", "execution", "culture", "resources", "growth"]})
step_case(S, "challenges duplicate", {"current_challenges": ["focus", "growth", "focus"]},
          [(P + "current_challenges[2]", "duplicate_item", None, {"duplicate_of": 0})])
step_case(S, "challenges 9 items", {"current_challenges": ["alignment", "measurement", "focus", "communication", "execution", "culture", "resources", "growth", "focus"]},
          [(P + "current_challenges", "too_many_items", None, {"max": 8})])
step_case(S, "challenges unknown value", {"current_challenges": ["focus", "money"]}, [(P + "current_challenges[1]", "invalid_enum")])
step_case(S, "challenges number item", {"current_challenges": [1]}, [(P + "current_challenges[0]", "invalid_type")])
step_case(S, "challenges string not list", {"current_challenges": "focus"}, [(P + "current_challenges", "invalid_type", None, {"expected": "array"})])
step_case(S, "challenges missing", {"current_challenges": DELETE}, [(P + "current_challenges", "required")])
step_case(S, "goals all 8", {"business_goals": ["revenue_growth", "market_expansion", "product_development", "operational_efficiency", "customer_satisfaction", "team_development", "innovation", "sustainability"]})
step_case(S, "goals empty", {"business_goals": []}, [(P + "business_goals", "too_few_items")])
step_case(S, "goals case differs", {"business_goals": ["Innovation"]}, [(P + "business_goals[0]", "invalid_enum")])
step_case(S, "goals null item", {"business_goals": [None]}, [(P + "business_goals[0]", "invalid_type")])

# ---------------------------------------------------------------- objectives
S = "objectives"
P = "objectives.objectives"


def kr(title="Ventas +20%", metric="number", baseline=0, target=10, **extra):
    k = {"title": title, "metric_type": metric, "target": target}
    if baseline is not None:
        k["baseline"] = baseline
    k.update(extra)
    return k


def obj(title="Crecer en ventas", krs=None, **extra):
    o = {"title": title, "key_results": krs if krs is not None else [kr()]}
    o.update(extra)
    return o


def ocase(name, objectives, issues=(), raw=None):
    add(S, name, raw if raw is not None else {"objectives": objectives}, issues, step=S)


ocase("valid step", None, raw=BASE["objectives"])
ocase("skipped with empty list", [])
ocase("skipped with empty object", None, raw={})
ocase("skipped with null list", None, raw={"objectives": None})
ocase("five objectives", [obj(f"Objetivo {i}") for i in range(5)])
ocase("six objectives", [obj(f"Objetivo {i}") for i in range(6)], [(P, "too_many_items", None, {"max": 5})])
ocase("objectives not a list", None, [(P, "invalid_type")], raw={"objectives": {"title": "x"}})
ocase("item not an object", ["Crecer"], [(P + "[0]", "invalid_type", None, {"expected": "object"})])
ocase("title 4 chars", [obj("Abcd")], [(P + "[0].title", "too_short", None, {"min": 5})])
ocase("title 5 chars", [obj("Abcde")])
ocase("title 200 chars", [obj(letters(200))])
ocase("title 201 chars", [obj(letters(201))], [(P + "[0].title", "too_long", None, {"max": 200})])
ocase("title missing", [{"key_results": [kr()]}], [(P + "[0].title", "required")])
ocase("duplicate titles ignoring case and spaces", [obj("Crecer en ventas"), obj("Otra cosa"), obj("  CRECER   en VENTAS ")],
      [(P + "[2].title", "duplicate_item", None, {"duplicate_of": 0})])
ocase("duplicate titles with accents differ", [obj("Fidelización total"), obj("Fidelizacion total")])
ocase("duplicate titles NFC vs NFD", [obj("Fidelización total"), obj("Fidelizacio\u0301n total")], [(P + "[1].title", "duplicate_item")])
# U+0897 (combining class 230 since Unicode 15.0) goes after U+0323 (220), which then composes.
ocase("duplicate titles U+0897 reordered by NFC", [obj("Crecer \u1ea1\u0897 total"), obj("Crecer a\u0897\u0323 total")], [(P + "[1].title", "duplicate_item")])
ocase("description 1000", [obj(description=letters(1000))])
ocase("description 1001", [obj(description=letters(1001))], [(P + "[0].description", "too_long")])
ocase("key_results empty", [obj(krs=[])], [(P + "[0].key_results", "too_few_items", None, {"min": 1})])
ocase("key_results missing", [{"title": "Crecer en ventas"}], [(P + "[0].key_results", "required")])
ocase("three key results no warning", [obj(krs=[kr(f"Resultado {i}") for i in range(3)])])
ocase("four key results warn", [obj(krs=[kr(f"Resultado {i}") for i in range(4)])],
      [(P + "[0].key_results", "too_many_key_results", None, {"count": 4, "recommended_max": 3})])
ocase("five key results warn", [obj(krs=[kr(f"Resultado {i}") for i in range(5)])], [(P + "[0].key_results", "too_many_key_results")])
ocase("six key results error", [obj(krs=[kr(f"Resultado {i}") for i in range(6)])], [(P + "[0].key_results", "too_many_items", None, {"max": 5})])
ocase("kr title 4 chars", [obj(krs=[kr("Abcd")])], [(P + "[0].key_results[0].title", "too_short")])
ocase("kr title 201 chars", [obj(krs=[kr(letters(201))])], [(P + "[0].key_results[0].title", "too_long")])
ocase("kr metric unknown", [obj(krs=[kr(metric="ratio")])], [(P + "[0].key_results[0].metric_type", "invalid_enum")])
ocase("kr target missing", [obj(krs=[{"title": "Ventas +20%", "metric_type": "number"}])], [(P + "[0].key_results[0].target", "required")])
ocase("kr target equals baseline", [obj(krs=[kr(baseline=10, target=10)])],
      [(P + "[0].key_results[0].target", "target_equals_baseline", None, {"baseline": 10})])
ocase("kr baseline defaults to zero", [obj(krs=[kr(baseline=None, target=0)])], [(P + "[0].key_results[0].target", "target_equals_baseline", None, {"baseline": 0})])
ocase("kr baseline null defaults to zero", [obj(krs=[kr(baseline=None, target=5)])])
ocase("kr target as string", [obj(krs=[kr(target="50")])])
ocase("kr decimal string", [obj(krs=[kr(target="12.5")])])
ocase("kr target word", [obj(krs=[kr(target="fifty")])], [(P + "[0].key_results[0].target", "not_number")])
ocase("kr target NaN string", [obj(krs=[kr(target="NaN")])], [(P + "[0].key_results[0].target", "not_number")])
ocase("kr target Infinity string", [obj(krs=[kr(target="Infinity")])], [(P + "[0].key_results[0].target", "not_number")])
ocase("kr target overflow string", [obj(krs=[kr(target="1e400")])], [(P + "[0].key_results[0].target", "not_number")])
ocase("kr target bool", [obj(krs=[kr(target=True)])], [(P + "[0].key_results[0].target", "invalid_type", None, {"expected": "number"})])
ocase("kr negative numbers", [obj(krs=[kr(baseline=-5, target=-1.5)])])
ocase("kr currency large", [obj(krs=[kr(metric="currency", baseline=0, target=1e12)])])
ocase("kr percentage 0 to 100", [obj(krs=[kr(metric="percentage", baseline=0, target=100)])])
ocase("kr percentage target 101", [obj(krs=[kr(metric="percentage", baseline=0, target=101)])],
      [(P + "[0].key_results[0].target", "out_of_range", None, {"min": 0, "max": 100})])
ocase("kr percentage baseline -1", [obj(krs=[kr(metric="percentage", baseline=-1, target=50)])],
      [(P + "[0].key_results[0].baseline", "out_of_range")])
ocase("kr percentage both out", [obj(krs=[kr(metric="percentage", baseline=-1, target=100.5)])],
      [(P + "[0].key_results[0].baseline", "out_of_range"), (P + "[0].key_results[0].target", "out_of_range")])
ocase("kr boolean 0 to 1", [obj(krs=[kr(metric="boolean", baseline=0, target=1)])])
ocase("kr boolean target 2", [obj(krs=[kr(metric="boolean", baseline=0, target=2)])],
      [(P + "[0].key_results[0].target", "invalid_value", None, {"expected": 1})])
ocase("kr boolean baseline 1", [obj(krs=[kr(metric="boolean", baseline=1, target=1)])],
      [(P + "[0].key_results[0].baseline", "invalid_value", None, {"expected": 0})])
ocase("kr boolean target 0", [obj(krs=[kr(metric="boolean", baseline=None, target=0)])],
      [(P + "[0].key_results[0].target", "invalid_value")])
ocase("kr unit 20", [obj(krs=[kr(unit=letters(20))])])
ocase("kr unit 21", [obj(krs=[kr(unit=letters(21))])], [(P + "[0].key_results[0].unit", "too_long", None, {"max": 20})])
ocase("kr unknown field", [obj(krs=[kr(owner="ana")])], [(P + "[0].key_results[0].owner", "unknown_field")])
ocase("objective unknown field", [obj(due="2027-01-01")], [(P + "[0].due", "unknown_field")])
ocase("kr not an object", [obj(krs=[42])], [(P + "[0].key_results[0]", "invalid_type")])
ocase("issues ordered by index", [obj("Abc", krs=[kr("Abc"), kr(target=None)]), obj("Xy")],
      [(P + "[0].title", "too_short"), (P + "[0].key_results[0].title", "too_short"),
       (P + "[0].key_results[1].target", "required"), (P + "[1].title", "too_short")])
ocase("warning before item errors", [obj(krs=[kr("Abc"), kr("R2 ok"), kr("R3 ok"), kr("R4 ok")])],
      [(P + "[0].key_results", "too_many_key_results"), (P + "[0].key_results[0].title", "too_short")])

# ---------------------------------------------------------------- preferences
S = "preferences"
P = "preferences."
step_case(S, "valid step", {})
for f, vals in {"language": ["es", "en"], "communication_style": ["formal", "informal"],
                "notification_frequency": ["daily", "weekly", "monthly"],
                "ai_assistance_level": ["none", "minimal", "moderate", "extensive"],
                "okr_cycle": ["monthly", "quarterly", "semiannual", "annual"]}.items():
    for v in vals:
        step_case(S, f"{f} {v}", {f: v})
    step_case(S, f"{f} invalid", {f: "sometimes"}, [(P + f, "invalid_enum")])
step_case(S, "language fr", {"language": "fr"}, [(P + "language", "invalid_enum", None, {"allowed": ["es", "en"]})])
step_case(S, "okr_cycle absent", {"okr_cycle": DELETE})
step_case(S, "focus_areas all 5", {"focus_areas": ["strategy", "execution", "analytics", "collaboration", "reporting"]})
step_case(S, "focus_areas 6 items", {"focus_areas": ["strategy", "execution", "analytics", "collaboration", "reporting", "strategy"]},
          [(P + "focus_areas", "too_many_items", None, {"max": 5})])
step_case(S, "focus_areas empty", {"focus_areas": []}, [(P + "focus_areas", "too_few_items")])
step_case(S, "focus_areas duplicate", {"focus_areas": ["analytics", "analytics"]}, [(P + "focus_areas[1]", "duplicate_item")])
step_case(S, "timezone canonical", {"timezone": "Europe/Madrid"})
step_case(S, "timezone any case", {"timezone": "america/mexico_city"})
step_case(S, "timezone UTC", {"timezone": "UTC"})
step_case(S, "timezone link name", {"timezone": "US/Eastern"})
step_case(S, "timezone three levels", {"timezone": "America/Argentina/Buenos_Aires"})
step_case(S, "timezone unknown", {"timezone": "Mars/Olympus_Mons"}, [(P + "timezone", "invalid_timezone")])
step_case(S, "timezone offset", {"timezone": "+02:00"}, [(P + "timezone", "invalid_timezone")])
step_case(S, "timezone Factory excluded", {"timezone": "Factory"}, [(P + "timezone", "invalid_timezone")])
step_case(S, "timezone number", {"timezone": 2}, [(P + "timezone", "invalid_type")])
step_case(S, "timezone missing", {"timezone": DELETE}, [(P + "timezone", "required")])

# ---------------------------------------------------------------- review
S = "review"
P = "review."
step_case(S, "valid step", {})
step_case(S, "confirmed false", {"confirmed": False}, [(P + "confirmed", "must_be_true")])
step_case(S, "confirmed string", {"confirmed": "true"}, [(P + "confirmed", "invalid_type", None, {"expected": "boolean"})])
step_case(S, "confirmed 1", {"confirmed": 1}, [(P + "confirmed", "invalid_type")])
step_case(S, "terms missing", {"terms_accepted": DELETE}, [(P + "terms_accepted", "required")])
step_case(S, "terms false", {"terms_accepted": False}, [(P + "terms_accepted", "must_be_true")])
step_case(S, "notes 1000", {"additional_notes": letters(1000)})
step_case(S, "notes 1001", {"additional_notes": letters(1001)}, [(P + "additional_notes", "too_long")])
step_case(S, "setup_demo maybe", {"setup_demo": "maybe"}, [(P + "setup_demo", "invalid_enum")])
for v in ["yes", "no", "later"]:
    step_case(S, f"setup_demo {v}", {"setup_demo": v})
step_case(S, "invites empty", {"invite_emails": []})
step_case(S, "invites absent", {"invite_emails": DELETE})
step_case(S, "invites 50", {"invite_emails": [f"user{i}@acme.com" for i in range(50)]})
step_case(S, "invites 51", {"invite_emails": [f"user{i}@acme.com" for i in range(51)]}, [(P + "invite_emails", "too_many_items", None, {"max": 50})])
step_case(S, "invites duplicate ignoring case", {"invite_emails": ["ana@acme.com", "luis@acme.com", "ANA@Acme.com"]},
          [(P + "invite_emails[2]", "duplicate_item", None, {"duplicate_of": 0})])
step_case(S, "invites padded and upper", {"invite_emails": ["  ANA@ACME.COM "]})
step_case(S, "invite invalid", {"invite_emails": ["ana@acme.com", "not-an-email"]}, [(P + "invite_emails[1]", "invalid_email")])
step_case(S, "invite empty string", {"invite_emails": [""]}, [(P + "invite_emails[0]", "invalid_email")])
step_case(S, "invite number", {"invite_emails": [5]}, [(P + "invite_emails[0]", "invalid_type")])
step_case(S, "invites not a list", {"invite_emails": "ana@acme.com"}, [(P + "invite_emails", "invalid_type")])
step_case(S, "invite self", {"invite_emails": ["luis@acme.com", "Ana@Acme.com"]}, [(P + "invite_emails[1]", "cannot_invite_self")],
          context={"self_email": "ana@acme.com"})
step_case(S, "invite self with context upper case", {"invite_emails": ["ana@acme.com"]}, [(P + "invite_emails[0]", "cannot_invite_self")],
          context={"self_email": " ANA@acme.com"})
step_case(S, "invite self without context is fine", {"invite_emails": ["ana@acme.com"]})
step_case(S, "invite at a personal provider warns", {"invite_emails": ["ana@acme.com", "Marta@GMail.com"]},
          [(P + "invite_emails[1]", "personal_email_domain", None, {"domain": "gmail.com"})])
step_case(S, "invite at a provider's country domain warns", {"invite_emails": ["luis@yahoo.com.mx", "bia@uol.com.br"]},
          [(P + "invite_emails[0]", "personal_email_domain", None, {"domain": "yahoo.com.mx"}),
           (P + "invite_emails[1]", "personal_email_domain", None, {"domain": "uol.com.br"})])
step_case(S, "invite at a look-alike company domain does not warn", {"invite_emails": ["ana@gmail.company.com", "luis@yahoo.example.com", "x@mail.gmail.com"]})
step_case(S, "a personal duplicate is only a duplicate", {"invite_emails": ["ana@gmail.com", "ANA@gmail.com"]},
          [(P + "invite_emails[0]", "personal_email_domain", None, {"domain": "gmail.com"}),
           (P + "invite_emails[1]", "duplicate_item", None, {"duplicate_of": 0})])
for bad in ["ana@acme", "ana@@acme.com", "ana acme@x.com", ".ana@acme.com", "ana..b@acme.com", "ana@-acme.com",
            "ana@acme..com", "ana@127.0.0.1", "ana@[127.0.0.1]", "\"ana\"@acme.com", "añá@acme.com", "ana@acme.c",
            "a" * 65 + "@acme.com", "ana@" + "a" * 250 + ".com", "ana@acme.com.", "ana@acme,com"]:
    step_case(S, f"invalid e-mail {bad[:40]}", {"invite_emails": [bad]}, [(P + "invite_emails[0]", "invalid_email")])
for good in ["a.b+tag@sub.acme.co.uk", "o'brien@acme.ie", "x_y-z@a-b.io", "user@xn--80ak6aa92e.com", "1@2.io",
             "a" * 64 + "@acme.com"]:
    step_case(S, f"valid e-mail {good[:40]}", {"invite_emails": [good]})

# ---------------------------------------------------------------- whole wizard
F = "wizard"
add(F, "valid wizard", wizard())
add(F, "valid wizard without objectives step", wizard(objectives=DELETE))
add(F, "valid wizard with minimal optional fields",
    wizard(company={"employee_count": None, "website": None, "founded_year": None},
           organization={"department": None, "team_size": None}, review={"invite_emails": [], "setup_demo": None}))
add(F, "not an object", [], [("", "invalid_type", None, {"expected": "object"})])
add(F, "null", None, [("", "invalid_type")])
add(F, "string", "wizard", [("", "invalid_type")])
add(F, "empty object reports every required field in step order", {},
    [(f"{s}.{f}", "required") for s in STEP_FIELDS for f in REQUIRED[s]])
add(F, "unknown top-level key last", wizard(extras={"x": 1}, company={"country": "ZZ"}),
    [("company.country", "invalid_country"), ("extras", "unknown_field", None, {"field": "extras"})])
add(F, "team larger than company warns", wizard(organization={"team_size": 50}),
    [("organization.team_size", "team_larger_than_company", None, {"team_size": 50, "employee_count": 45})])
add(F, "team equal to company is fine", wizard(organization={"team_size": 45}))
add(F, "team larger without employee_count is fine", wizard(company={"employee_count": None}, organization={"team_size": 500}))
add(F, "warnings alone keep it valid",
    wizard(company={"employee_count": 60}, organization={"team_size": 70}),
    [("company.employee_count", "size_mismatch"), ("organization.team_size", "team_larger_than_company")], valid=True)
add(F, "errors across steps in step order",
    wizard(review={"confirmed": False}, welcome={"full_name": "X"}, preferences={"timezone": "Nowhere/City"}),
    [("welcome.full_name", "too_short"), ("preferences.timezone", "invalid_timezone"), ("review.confirmed", "must_be_true")])
add(F, "step of wrong type", wizard(organization=[1, 2]), [("organization", "invalid_type")])
add(F, "self invite in wizard", wizard(), [("review.invite_emails[0]", "cannot_invite_self")], context={"self_email": "luis@cafenino.mx"})
nested = 1
for _ in range(40):
    nested = [nested]
add(F, "deeply nested unknown value is just unknown", wizard(extras=nested), [("extras", "unknown_field")])

# ---------------------------------------------------------------- messages, both locales
F = "messages"
for locale, msgs in {
    "es": {"required": "Este campo es obligatorio.", "too_short": "Debe tener al menos 2 caracteres.",
           "invalid_enum": "Elige una opción válida: none, beginner, intermediate, advanced.",
           "out_of_range": "Debe estar entre 1800 y 2026.",
           "size_mismatch": "60 empleados no encaja con el tamaño elegido (11–50).",
           "must_be_true": "Debes marcar esta casilla para continuar.",
           "invalid_type": "Tipo de dato no válido: se esperaba un número entero.",
           "unknown_field": "Campo desconocido: «extra».",
           "too_many_key_results": "Tienes 4 resultados clave; lo recomendable es 3 como máximo.",
           "personal_email_domain": "«gmail.com» es un correo personal: si tiene una dirección del trabajo, invítale con esa."},
    "en": {"required": "This field is required.", "too_short": "Must be at least 2 characters long.",
           "invalid_enum": "Choose a valid option: none, beginner, intermediate, advanced.",
           "out_of_range": "Must be between 1800 and 2026.",
           "size_mismatch": "60 employees does not match the chosen size (11–50).",
           "must_be_true": "You must tick this box to continue.",
           "invalid_type": "Invalid data type: expected a whole number.",
           "unknown_field": "Unknown field: “extra”.",
           "too_many_key_results": "You have 4 key results; we recommend at most 3.",
           "personal_email_domain": "“gmail.com” is a personal e-mail provider: if they have a work address, invite that one."},
}.items():
    ctx = {"locale": locale}
    add(F, f"{locale}: required", wizard(welcome={"job_title": ""}),
        [issue("welcome.job_title", "required", msgs["required"])], context=ctx)
    add(F, f"{locale}: too_short", wizard(welcome={"full_name": "A"}),
        [issue("welcome.full_name", "too_short", msgs["too_short"], {"min": 2})], context=ctx)
    add(F, f"{locale}: invalid_enum", wizard(welcome={"experience_with_okr": "guru"}),
        [issue("welcome.experience_with_okr", "invalid_enum", msgs["invalid_enum"])], context=ctx)
    add(F, f"{locale}: out_of_range with reference year", wizard(company={"founded_year": 1700}),
        [issue("company.founded_year", "out_of_range", msgs["out_of_range"])], context=ctx)
    add(F, f"{locale}: size_mismatch", wizard(company={"employee_count": 60}),
        [issue("company.employee_count", "size_mismatch", msgs["size_mismatch"])], context=ctx)
    add(F, f"{locale}: must_be_true", wizard(review={"terms_accepted": False}),
        [issue("review.terms_accepted", "must_be_true", msgs["must_be_true"])], context=ctx)
    add(F, f"{locale}: invalid_type", wizard(organization={"team_size": [8]}),
        [issue("organization.team_size", "invalid_type", msgs["invalid_type"])], context=ctx)
    add(F, f"{locale}: unknown_field", wizard(welcome={"extra": 1}),
        [issue("welcome.extra", "unknown_field", msgs["unknown_field"])], context=ctx)
    krs = [kr(f"Resultado {i}") for i in range(4)]
    add(F, f"{locale}: too_many_key_results", wizard(objectives={"objectives": [obj(krs=krs)]}),
        [issue("objectives.objectives[0].key_results", "too_many_key_results", msgs["too_many_key_results"])], context=ctx)
    add(F, f"{locale}: personal_email_domain", wizard(review={"invite_emails": ["marta@gmail.com"]}),
        [issue("review.invite_emails[0]", "personal_email_domain", msgs["personal_email_domain"], {"domain": "gmail.com"})], context=ctx)
add(F, "default locale is Spanish", wizard(welcome={"job_title": ""}),
    [issue("welcome.job_title", "required", "Este campo es obligatorio.")])


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".json"):
            os.remove(os.path.join(OUT, old))
    total = 0
    for name, cases in files.items():
        names = [c["name"] for c in cases]
        assert len(names) == len(set(names)), f"duplicate case names in {name}"
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump({"file": name, "cases": cases}, f, ensure_ascii=False, indent=1)
            f.write("\n")
        total += len(cases)
    print(f"{total} cases in {len(files)} files")


main()
