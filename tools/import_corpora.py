#!/usr/bin/env python3
"""Imports public URL and e-mail test corpora into tests/corpora/*.json (docs/reference-data.md).

Sources, from PyPI source distributions (fetch them with
`pip download --no-deps --no-binary :all: validators==0.36.0 email-validator==2.4.0`):
  validators 0.36.0  tests/test_url.py, tests/test_email.py (the URL list is Mathias Bynens'
                     well-known URL regex corpus)
  email-validator 2.4.0 tests/test_syntax.py::test_pyisemail_tests (Dominic Sayers' isemail corpus)
Each entry keeps the source's verdict and states ours; where they differ, `deviation` says which
documented policy of ours (docs/decisions.md) makes the difference. Our verdict is derived from
those policies here, never by running the rules.
Run: python3 tools/import_corpora.py validators-0.36.0/ email_validator-2.4.0/
"""
import ast
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def constant(node):
    """A literal that may contain string concatenation (`"a" + "b"`), which literal_eval refuses."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return constant(node.left) + constant(node.right)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [constant(e) for e in node.elts]
    return ast.literal_eval(node)


def parametrized_lists(path):
    """{test function name: [first element of each parametrize row]}"""
    tree = ast.parse(open(path, encoding="utf-8").read())
    out = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize":
                rows = constant(dec.args[1])
                out[node.name] = [r[0] if isinstance(r, (tuple, list)) else r for r in rows]
    return out


def url_policy(value, source_valid):
    v = value.strip()
    scheme, sep, rest = v.partition("://")
    if not sep or not scheme or not scheme[0].isalpha():
        # No scheme: we read it as https:// + the value (spec section 2, website).
        if v.startswith("/") or v.startswith(":"):
            return False, None
        return True, None if source_valid else "bare host names are read as https:// (spec)"
    if scheme.lower() not in ("http", "https"):
        return False, "only http and https" if source_valid else None
    authority = rest.split("/")[0].split("?")[0].split("#")[0]
    if "@" in authority:
        return False, "user info in a website URL is refused" if source_valid else None
    if authority.startswith("["):
        return False, "IPv6 literals are refused" if source_valid else None
    if not authority.isascii():
        return False, "IDN hosts must be given in punycode (no IDNA tables)" if source_valid else None
    if not source_valid and v in STRICT_QUERY:
        return True, "query strings are not restricted beyond RFC 3986 characters"
    return source_valid, None


STRICT_QUERY = {
    "https://www.example.com/foo/?bar=baz&inga=42&quux",
    "https://foo.com/img/bar/baz.jpg?-62169987208",
    "https://foo.bar.net/baz.php?-/inga/test-lenient-query/",
    "https://example.com/foo/?bar#!baz/inga/8SA-M3as7A8",
    "https://example.org?q=search');alert(document.domain);",
}


def email_policy(value, source_valid, valid_set):
    stripped = value.strip()
    if not source_valid:
        if stripped != value and stripped in valid_set:
            return True, "surrounding whitespace is trimmed before validation (spec section 4)"
        return False, None
    if not value.isascii():
        return False, "non-ASCII addresses are refused (no IDNA tables)"
    if '"' in value:
        return False, "quoted local parts are refused"
    if "[" in value or "<" in value or "(" in value:
        return False, "domain literals, display names and comments are refused"
    return True, None


def main(validators_dir, email_validator_dir):
    urls = parametrized_lists(os.path.join(validators_dir, "tests", "test_url.py"))
    src = "validators 0.36.0 tests/test_url.py (Mathias Bynens' URL corpus)"
    url_entries = []
    for name, valid in [("test_returns_true_on_valid_url", True), ("test_returns_failed_validation_on_invalid_url", False)]:
        for v in urls[name]:
            ours, deviation = url_policy(v, valid)
            url_entries.append({"value": v, "source_valid": valid, "valid": ours, "deviation": deviation})
    write("url.json", src, url_entries)

    emails = parametrized_lists(os.path.join(validators_dir, "tests", "test_email.py"))
    isemail = ast.parse(open(os.path.join(email_validator_dir, "tests", "test_syntax.py"), encoding="utf-8").read())
    rows = []
    for node in isemail.body:
        if isinstance(node, ast.FunctionDef) and node.name == "test_pyisemail_tests":
            rows = constant(node.decorator_list[0].args[1])
    entries = [(r[0], r[1] == "ISEMAIL_VALID", "email-validator 2.4.0 tests/test_syntax.py (isemail corpus)") for r in rows]
    entries += [(v, True, "validators 0.36.0 tests/test_email.py") for v in emails["test_returns_true_on_valid_email"]]
    entries += [(v, False, "validators 0.36.0 tests/test_email.py") for v in emails["test_returns_failed_validation_on_invalid_email"] if v is not None]
    valid_set = {v for v, ok, _ in entries if ok}
    email_entries = []
    for v, ok, source in entries:
        ours, deviation = email_policy(v, ok, valid_set)
        email_entries.append({"value": v, "source": source, "source_valid": ok, "valid": ours, "deviation": deviation})
    write("email.json", "isemail corpus and validators tests", email_entries)


def write(name, source, entries):
    path = os.path.join(ROOT, "tests", "corpora", name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"source": source, "entries": entries}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    dev = sum(1 for e in entries if e["deviation"])
    print(f"{name}: {len(entries)} entries, {dev} deviations")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
