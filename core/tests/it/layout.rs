//! The crate's layout: no import cycles between core's modules (each module's non-test code, by
//! the `crate::module` paths it names), so every module can be read after the ones it uses.

use std::collections::{BTreeMap, BTreeSet};

fn modules() -> BTreeMap<String, BTreeSet<String>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let names: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .filter(|n| n != "lib")
        .collect();
    names
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(format!("{dir}/{name}.rs")).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let uses = code
                .match_indices("crate::")
                .map(|(at, _)| {
                    code[at + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .filter(|m| m != name && names.contains(m))
                .collect();
            (name.clone(), uses)
        })
        .collect()
}

#[test]
fn core_modules_have_no_import_cycles() {
    let graph = modules();
    assert!(graph.len() > 15, "{graph:?}");
    // Depth-first search for a path back to the start.
    fn reaches(
        graph: &BTreeMap<String, BTreeSet<String>>,
        from: &str,
        to: &str,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        graph[from]
            .iter()
            .any(|next| next == to || (seen.insert(next.clone()) && reaches(graph, next, to, seen)))
    }
    let cycles: Vec<&String> = graph
        .keys()
        .filter(|m| reaches(&graph, m, m, &mut BTreeSet::new()))
        .collect();
    assert!(cycles.is_empty(), "modules in an import cycle: {cycles:?}");
    // json.rs, the writer and reader every output type uses, is a leaf.
    assert!(graph["json"].is_empty(), "{:?}", graph["json"]);
}
