//! The README's examples are the tested ones: its C program is
//! `tests/c/readme_example.c` (compiled and run by `tests/c_abi.rs`), its
//! PHP excerpt is part of `php/example.php` (run by `php/run.sh`), and its
//! Python example is run by `python/tests/test_readme.py`.

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fenced code blocks of `markdown` in language `language`.
fn code_blocks(markdown: &str, language: &str) -> Vec<String> {
    let fence = format!("```{language}");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_end() == fence => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

#[test]
fn c_example_is_the_tested_file() {
    let readme = read("README.md");
    let blocks = code_blocks(&readme, "c");
    assert_eq!(blocks.len(), 1, "the README has one C example");
    assert_eq!(
        blocks[0],
        read("tests/c/readme_example.c"),
        "README.md and tests/c/readme_example.c differ"
    );
}

#[test]
fn php_excerpt_is_part_of_the_example() {
    let readme = read("README.md");
    let example = read("php/example.php");
    let blocks = code_blocks(&readme, "php");
    assert!(!blocks.is_empty(), "the README has a PHP excerpt");
    for block in blocks {
        assert!(
            example.contains(&block),
            "this README excerpt is not in php/example.php:\n{block}"
        );
    }
}

#[test]
fn python_example_exists_for_the_python_tests() {
    let readme = read("README.md");
    let blocks = code_blocks(&readme, "python");
    assert_eq!(
        blocks.len(),
        1,
        "python/tests/test_readme.py runs exactly one README example"
    );
    assert!(blocks[0].contains("import misp_correlate"));
}
