//! The manual pages in man/ and the sample configuration in etc/ha.d:
//! every page renders without a groff warning, documents everything the
//! code accepts (ha.cf directives, heartbeat options, cl_status
//! sub-commands), and the samples and their examples are accepted.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use heartbeat_rs::config::{hacf, haresources, Diagnostics};
use heartbeat_rs::control::cl_status;
use heartbeat_rs::daemon::cli;

const PAGES: [&str; 7] = [
    "heartbeat.8",
    "ha.cf.5",
    "authkeys.5",
    "haresources.5",
    "cl_status.1",
    "hb_standby.1",
    "hb_takeover.1",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn page(name: &str) -> String {
    let path = root().join("man").join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// man/*.[1-8], sorted.
fn man_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root().join("man"))
        .expect("man/")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                e.len() == 1 && ('1'..='8').contains(&e.chars().next().unwrap_or('0'))
            })
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_page_is_there() {
    let names: HashSet<String> = man_files()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for name in PAGES {
        assert!(names.contains(name), "man/{name} is missing");
    }
}

#[test]
fn pages_render_without_warnings() {
    let files = man_files();
    assert!(!files.is_empty());
    for file in files {
        let out = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(&file)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run groff ({e}): install groff-base (tests/harness/install-deps.sh)")
            });
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && text.is_empty(),
            "groff -man -ww -z {}: {} {text}",
            file.display(),
            out.status
        );
    }
}

/// The words of a groff line, escapes undone.
fn words_of(text: &str) -> impl Iterator<Item = String> + '_ {
    let plain = ["\\fR", "\\fP", "\\fB", "\\fI"]
        .iter()
        .fold(text.replace("\\-", "-"), |t, esc| t.replace(esc, " "));
    plain
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '='))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter()
}

/// The words a page describes: those of every `.TP` tag line (the item
/// being explained), plus every word set in bold or italics by a font
/// macro inside the sections named in `sections`.
fn described_words(source: &str, sections: &[&str]) -> HashSet<String> {
    let mut words = HashSet::new();
    let mut after_tp = false;
    let mut in_listed_section = false;
    for line in source.lines() {
        if line.starts_with(".SH") {
            in_listed_section = sections.iter().any(|s| line.contains(s));
        }
        let font_macro = ["B ", "BI ", "BR ", "IB ", "I ", "IR ", "RB ", "RI "]
            .iter()
            .find_map(|m| line.strip_prefix('.').and_then(|l| l.strip_prefix(m)));
        if after_tp || (in_listed_section && font_macro.is_some()) {
            words.extend(words_of(font_macro.unwrap_or(line)));
        }
        after_tp = line == ".TP";
    }
    words
}

#[test]
fn ha_cf_page_documents_every_directive() {
    let words = described_words(&page("ha.cf.5"), &["PACEMAKER-ONLY"]);
    let missing: Vec<&str> = hacf::directive_names()
        .filter(|d| !words.contains(*d))
        .collect();
    assert!(missing.is_empty(), "ha.cf.5 does not document {missing:?}");
}

#[test]
fn heartbeat_page_documents_every_option() {
    let words = described_words(&page("heartbeat.8"), &[]);
    let mut missing: Vec<String> = cli::SHORT_OPTIONS
        .chars()
        .map(|c| format!("-{c}"))
        .chain(
            cli::LONG_OPTIONS
                .iter()
                .map(|(name, _)| format!("--{name}")),
        )
        .filter(|o| !words.contains(o))
        .collect();
    // The unit and the init script are documented there too.
    for must in [
        "heartbeat.service",
        "Type=notify",
        "WatchdogSec=",
        "/etc/init.d/heartbeat",
        "force\\-reload",
    ] {
        if !page("heartbeat.8").contains(must) {
            missing.push(must.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "heartbeat.8 does not document {missing:?}"
    );
}

#[test]
fn cl_status_page_documents_every_sub_command() {
    let words = described_words(&page("cl_status.1"), &[]);
    let missing: Vec<&str> = cl_status::command_names()
        .filter(|c| !words.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "cl_status.1 does not document {missing:?}"
    );
}

#[test]
fn standby_pages_document_every_argument() {
    for name in ["hb_standby.1", "hb_takeover.1"] {
        let words = described_words(&page(name), &[]);
        for arg in ["all", "foreign", "local", "failback", "HA_FIFO"] {
            assert!(words.contains(arg), "{name} does not document {arg}");
        }
    }
}

fn errors(diags: &Diagnostics) -> Vec<String> {
    diags.errors().map(|d| d.to_string()).collect()
}

/// The lines between `.nf` and `.fi` after the section header `section`,
/// with groff escapes undone.
fn example_blocks(source: &str, section: &str) -> String {
    let mut out = String::new();
    let mut in_section = false;
    let mut in_block = false;
    for line in source.lines() {
        if line.starts_with(".SH") {
            in_section = line.contains(section);
            continue;
        }
        match line {
            ".nf" => in_block = in_section,
            ".fi" => in_block = false,
            _ if in_block => {
                out.push_str(&line.replace("\\e", "\\").replace("\\-", "-"));
                out.push('\n');
            }
            _ => {}
        }
    }
    out
}

#[test]
fn man_page_examples_are_valid() {
    let cf = example_blocks(&page("ha.cf.5"), "EXAMPLE");
    assert!(cf.contains("node"), "{cf}");
    let parsed = hacf::parse(cf.as_bytes(), Path::new("ha.cf.5"));
    assert!(
        errors(&parsed.diagnostics).is_empty(),
        "{}",
        parsed.diagnostics
    );

    let hr = example_blocks(&page("haresources.5"), "EXAMPLES");
    let nodes = vec!["alpha".to_string(), "bravo".to_string()];
    let parsed = haresources::parse(hr.as_bytes(), Path::new("haresources.5"), &nodes, &[]);
    assert!(parsed.diagnostics.is_empty(), "{}", parsed.diagnostics);
    assert_eq!(parsed.value.len(), 8, "{hr}");
}

/// A private copy of etc/ha.d with authkeys mode 600 (git does not keep
/// modes), removed on drop.
struct SampleCopy(PathBuf);

impl SampleCopy {
    fn new(tag: &str) -> SampleCopy {
        let dir = std::env::temp_dir().join(format!("hbrs-man-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        for name in ["ha.cf", "authkeys", "haresources"] {
            fs::copy(root().join("etc/ha.d").join(name), dir.join(name)).expect("copy sample");
        }
        fs::set_permissions(dir.join("authkeys"), fs::Permissions::from_mode(0o600))
            .expect("chmod");
        SampleCopy(dir)
    }

    fn check(&self, node: &str) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_heartbeat"))
            .arg("--check")
            .arg("--confdir")
            .arg(&self.0)
            .args(["--node", node])
            .output()
            .expect("run heartbeat --check");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

impl Drop for SampleCopy {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn shipped_samples_pass_check_on_both_nodes() {
    let copy = SampleCopy::new("as-is");
    for node in ["alpha", "bravo"] {
        let (code, out) = copy.check(node);
        assert_eq!(code, 0, "{out}");
        assert!(!out.contains("error:"), "{out}");
    }
}

/// The example lines of the sample haresources (`#NODE ...`, plus the
/// commented continuation lines after one ending in `\`), uncommented.
fn haresources_examples() -> Vec<String> {
    let text = fs::read_to_string(root().join("etc/ha.d/haresources")).expect("sample");
    let mut examples: Vec<String> = Vec::new();
    let mut continued = false;
    for line in text.lines() {
        let Some(body) = line.strip_prefix('#') else {
            continued = false;
            continue;
        };
        let starts_example = body.starts_with(|c: char| c.is_ascii_alphanumeric());
        if continued {
            if let Some(last) = examples.last_mut() {
                last.push('\n');
                last.push_str(body);
            }
        } else if starts_example {
            examples.push(body.to_string());
        }
        continued = (starts_example || continued) && body.ends_with('\\');
    }
    examples
}

#[test]
fn sample_haresources_examples_parse_and_cover_every_form() {
    let examples = haresources_examples();
    let nodes = vec!["alpha".to_string(), "bravo".to_string()];
    let mut groups = Vec::new();
    for example in &examples {
        let parsed = haresources::parse(example.as_bytes(), Path::new("haresources"), &nodes, &[]);
        assert!(
            parsed.diagnostics.is_empty(),
            "{example}: {}",
            parsed.diagnostics
        );
        assert_eq!(parsed.value.len(), 1, "{example}");
        groups.extend(parsed.value);
    }
    let resources = || groups.iter().flat_map(|g| g.resources.iter());
    let forms = [
        (
            "IP shorthand",
            resources().any(|r| r.script == "IPaddr" && !r.spec.contains("::")),
        ),
        (
            "IPaddr::a/b/c",
            resources().any(|r| {
                r.spec.starts_with("IPaddr::")
                    && r.args.first().is_some_and(|a| a.matches('/').count() >= 2)
            }),
        ),
        (
            "script::args",
            resources().any(|r| r.script != "IPaddr" && !r.args.is_empty()),
        ),
        (
            "LSB init script",
            resources().any(|r| {
                r.args.is_empty()
                    && r.script
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            }),
        ),
        (
            "several resources in a group",
            groups.iter().any(|g| g.resources.len() >= 3),
        ),
        (
            "a continued line",
            examples.iter().any(|e| e.contains("\\\n")),
        ),
        (
            "groups for both nodes",
            nodes.iter().all(|n| groups.iter().any(|g| &g.node == n)),
        ),
        (
            "several groups for one node",
            nodes
                .iter()
                .any(|n| groups.iter().filter(|g| &g.node == n).count() >= 2),
        ),
    ];
    for (form, present) in forms {
        assert!(present, "the sample haresources has no example of: {form}");
    }

    // All of them together, in the sample's place, pass the daemon's check.
    let copy = SampleCopy::new("examples");
    fs::write(copy.0.join("haresources"), examples.join("\n") + "\n").expect("write");
    let (code, out) = copy.check("alpha");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("haresources"), "{out}");
}

#[test]
fn readme_keeps_the_two_commands_and_its_sections() {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md");
    for line in [
        "bash demo/two-node.sh",
        "bash tests/harness/install-deps.sh && cargo test --release",
    ] {
        assert!(
            readme.lines().any(|l| l == line),
            "README.md lost the command line {line:?}"
        );
    }
    for section in [
        "## Install",
        "## Configure",
        "## Migrate from Heartbeat",
        "## Differences from Heartbeat",
        "## Troubleshooting",
        "## Split-brain defences",
    ] {
        assert!(
            readme.lines().any(|l| l == section),
            "README.md has no {section}"
        );
    }
}
