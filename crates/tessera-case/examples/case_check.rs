//! Validates CASE packages given on the command line and prints every violation.
//!
//! `cargo run -p tessera-case --example case_check -- FILE...`

fn main() {
    let mut failed = false;
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                failed = true;
                continue;
            }
        };
        match tessera_case::import(&bytes, &Default::default()) {
            Ok(f) => println!(
                "{path}: valid CASE {} package: {} items, {} hierarchy links, {} prerequisites, {} other associations, {} rubrics",
                f.case_version,
                f.competencies.len(),
                f.hierarchy.len(),
                f.prerequisites.len(),
                f.associations.len(),
                f.rubrics.len()
            ),
            Err(e) => {
                failed = true;
                println!("{path}: {}", e.code());
                for v in e.violations() {
                    println!("  {v}");
                }
                if e.violations().is_empty() {
                    println!("  {e}");
                }
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
